import { Module } from '@nestjs/common';
import { AdminController } from './admin.controller.js';
import { OAuthModule } from '../oauth/oauth.module.js';

@Module({ imports: [OAuthModule], controllers: [AdminController] })
export class AdminModule {}
