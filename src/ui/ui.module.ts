import { Controller, Get, Global, Module, NotFoundException, Res } from '@nestjs/common';
import type { Response } from 'express';
import { LOADED_CONFIG } from '../config/config.module.js';
import type { LoadedConfig } from '../config/config.loader.js';
import { BASE_CSS } from './layout.js';
import { UiService } from './ui.service.js';

/** Static assets of the login pages: served by Herald itself, no external origins. */
@Controller('assets')
export class AssetsController {
  constructor(private readonly ui: UiService) {}

  @Get('herald.css')
  base(@Res() res: Response): void {
    res.type('text/css').set('cache-control', 'public, max-age=3600').send(BASE_CSS);
  }

  @Get('theme.css')
  theme(@Res() res: Response): void {
    res.type('text/css').set('cache-control', 'public, max-age=300').send(this.ui.css);
  }

  @Get('logo')
  logo(@Res() res: Response): void {
    if (!this.ui.logo) throw new NotFoundException();
    res.type(this.ui.logo.type).set('cache-control', 'public, max-age=300').set('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'").send(this.ui.logo.body);
  }
}

@Global()
@Module({
  controllers: [AssetsController],
  providers: [{ provide: UiService, inject: [LOADED_CONFIG], useFactory: (loaded: LoadedConfig) => new UiService(loaded) }],
  exports: [UiService],
})
export class UiModule {}
