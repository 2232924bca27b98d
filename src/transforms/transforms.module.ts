import { Global, Module } from '@nestjs/common';
import { NoTransforms, TRANSFORM_RUNNER } from './transform-runner.js';

@Global()
@Module({
  providers: [{ provide: TRANSFORM_RUNNER, useFactory: () => new NoTransforms() }],
  exports: [TRANSFORM_RUNNER],
})
export class TransformsModule {}
