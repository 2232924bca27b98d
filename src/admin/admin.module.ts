import { Module } from '@nestjs/common';
import { AdminController } from './admin.controller.js';
import { OAuthModule } from '../oauth/oauth.module.js';
import { TransformsAdminController } from './transforms-admin.controller.js';
import { UsersAdminController } from './users-admin.controller.js';

@Module({ imports: [OAuthModule], controllers: [AdminController, UsersAdminController, TransformsAdminController] })
export class AdminModule {}
