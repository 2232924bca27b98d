import { Module } from '@nestjs/common';
import { DemoController } from './demo.controller.js';

/** The development-only demo application at /demo (it answers 404 outside development mode). */
@Module({ controllers: [DemoController] })
export class DemoModule {}
