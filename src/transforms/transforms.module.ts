/**
 * Claim transforms: loads (type-checks, bundles, sandboxes) the transforms configuration uses at
 * start-up — a problem stops start-up with file:line:col — and provides the TransformRunner of the
 * login pipeline. Hot reload: file watching in development (`transforms.watch`), SIGHUP, and
 * `POST /admin/transforms/reload`; a broken edit keeps the last good version and is reported.
 */
import { Global, Inject, Module, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LOADED_CONFIG, RUNTIME_OPTIONS, type RuntimeOptions } from '../config/config.module.js';
import type { LoadedConfig } from '../config/config.loader.js';
import { AuditService } from '../audit/audit.service.js';
import { UsersRepository } from '../users/users.repository.js';
import { AccountUpdater } from './account-updates.js';
import { ExplainService } from './explain.service.js';
import { LastIdentityStore } from './last-identity.store.js';
import { createTransformEngine, type TransformEngine } from './transform-engine.js';
import { TRANSFORM_RUNNER } from './transform-runner.js';
import { TransformReloader } from './transform-reloader.js';

/** Injection token of the loaded TransformEngine. */
export const TRANSFORM_ENGINE = Symbol('TRANSFORM_ENGINE');

/** isolated-vm lost control of an isolate: its README says log, stop serving, finish outstanding work, abort. */
function catastrophic(message: string): void {
  process.stdout.write(`${JSON.stringify({ level: 'error', msg: 'isolated-vm catastrophic error: stopping', detail: message })}\n`);
  setTimeout(() => process.abort(), 1000);
}

function noNodeSnapshot(): boolean {
  return process.execArgv.includes('--no-node-snapshot') || /(^|\s)--no-node-snapshot(\s|$)/.test(process.env.NODE_OPTIONS ?? '');
}

@Global()
@Module({
  providers: [
    {
      provide: TRANSFORM_ENGINE,
      inject: [LOADED_CONFIG, AuditService, RUNTIME_OPTIONS],
      useFactory: async (loaded: LoadedConfig, audit: AuditService, runtime: RuntimeOptions) => {
        const engine = await createTransformEngine(loaded.config, { audit, checkInWorker: true, onCatastrophicError: catastrophic });
        if (engine.registry.names().length && !noNodeSnapshot() && !runtime.quiet) {
          process.stdout.write(
            `${JSON.stringify({ level: 'warn', msg: 'transforms run in isolated-vm, which asks for `node --no-node-snapshot` on Node 20+ (set NODE_OPTIONS=--no-node-snapshot)' })}\n`,
          );
        }
        return engine;
      },
    },
    { provide: TRANSFORM_RUNNER, inject: [TRANSFORM_ENGINE], useFactory: (engine: TransformEngine) => engine.pipeline },
    {
      provide: TransformReloader,
      inject: [TRANSFORM_ENGINE, LOADED_CONFIG, AuditService],
      useFactory: (engine: TransformEngine, loaded: LoadedConfig, audit: AuditService) => new TransformReloader(engine, loaded.config, audit),
    },
    {
      provide: AccountUpdater,
      inject: [TRANSFORM_ENGINE, UsersRepository, AuditService],
      useFactory: (engine: TransformEngine, users: UsersRepository, audit: AuditService) => new AccountUpdater(users, engine.accountUpdates, audit),
    },
    { provide: LastIdentityStore, inject: [DataSource], useFactory: (ds: DataSource) => new LastIdentityStore(ds) },
    {
      provide: ExplainService,
      inject: [LOADED_CONFIG, TRANSFORM_ENGINE, UsersRepository],
      useFactory: (loaded: LoadedConfig, engine: TransformEngine, users: UsersRepository) => new ExplainService(loaded.config, engine.pipeline, { accounts: users }),
    },
  ],
  exports: [TRANSFORM_RUNNER, TRANSFORM_ENGINE, TransformReloader, AccountUpdater, LastIdentityStore, ExplainService],
})
export class TransformsModule implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(TRANSFORM_ENGINE) private readonly engine: TransformEngine,
    private readonly reloader: TransformReloader,
  ) {}

  onApplicationBootstrap(): void {
    this.reloader.start();
  }

  async onApplicationShutdown(): Promise<void> {
    this.reloader.stop();
    // Dispose every isolate before the process ends (ivm can crash at exit after memory kills).
    await this.engine.close();
  }
}
