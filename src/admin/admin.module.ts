import { Module } from '@nestjs/common';
import { AdminController } from './admin.controller.js';
import { OAuthModule } from '../oauth/oauth.module.js';
import { UsersAdminController } from './users-admin.controller.js';

@Module({ imports: [OAuthModule], controllers: [AdminController, UsersAdminController] })
export class AdminModule {}
