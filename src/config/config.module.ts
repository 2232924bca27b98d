import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { LoadedConfig } from './config.loader.js';

/** Injection token of the validated configuration (LoadedConfig). */
export const LOADED_CONFIG = Symbol('LOADED_CONFIG');

/** Runtime options that are not configuration (tests, CLI). */
export const RUNTIME_OPTIONS = Symbol('RUNTIME_OPTIONS');

export interface RuntimeOptions {
  /** PostgreSQL schema to use (tests isolate suites this way). */
  databaseSchema?: string;
  /** Suppress audit JSON lines on stdout (tests, benchmarks). */
  quiet?: boolean;
}

@Global()
@Module({})
export class ConfigModule {
  static forRoot(loaded: LoadedConfig, runtime: RuntimeOptions = {}): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: LOADED_CONFIG, useValue: loaded },
        { provide: RUNTIME_OPTIONS, useValue: runtime },
      ],
      exports: [LOADED_CONFIG, RUNTIME_OPTIONS],
    };
  }
}
