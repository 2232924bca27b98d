import { Global, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LOADED_CONFIG } from '../config/config.module.js';
import type { LoadedConfig } from '../config/config.loader.js';
import { KeyStore } from './key.store.js';

@Global()
@Module({
  providers: [
    { provide: KeyStore, inject: [DataSource, LOADED_CONFIG], useFactory: (ds: DataSource, loaded: LoadedConfig) => new KeyStore(ds, loaded.config) },
  ],
  exports: [KeyStore],
})
export class TokensModule {}
