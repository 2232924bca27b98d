/** `herald keys rotate` and `herald keys list`. */
import type { Command } from 'commander';
import { KeyStore } from '../../tokens/key.store.js';
import { AuditService } from '../../audit/audit.service.js';
import { loadCliConfig, print, withDatabase } from '../cli-context.js';

export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description('Manage token signing keys');

  keys
    .command('list')
    .description('List signing keys: algorithm, state, creation and retirement times')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const loaded = loadCliConfig(command);
      await withDatabase(loaded, async (ds) => {
        const list = await new KeyStore(ds, loaded.config).list();
        if (opts.json) return print(JSON.stringify(list, null, 2));
        if (!list.length) return print('no keys yet (they are generated when Herald first starts)');
        for (const key of list) {
          const retire = key.retireAt ? `  published until ${new Date(key.retireAt).toISOString()}` : '';
          print(`${key.kid.padEnd(28)} ${key.alg.padEnd(6)} ${key.state.padEnd(9)} created ${new Date(key.createdAt).toISOString()}${retire}`);
        }
      });
    });

  keys
    .command('rotate')
    .description('Add a new signing key per algorithm; old keys stay published until their tokens expire')
    .action(async (_opts, command: Command) => {
      const loaded = loadCliConfig(command);
      await withDatabase(loaded, async (ds) => {
        const store = new KeyStore(ds, loaded.config);
        await store.ensureKeys();
        const result = await store.rotate();
        const audit = new AuditService(ds, { log: false, database: loaded.config.audit.database });
        audit.emit({ type: 'key.rotated', data: { created: result.created, retiring: result.retiring, reason: 'cli' } });
        await audit.flush();
        print(`new signing keys: ${result.created.join(', ')}`);
        if (result.retiring.length) print(`retiring (still published until their tokens expire): ${result.retiring.join(', ')}`);
        print(`running instances pick up the new keys within ${loaded.config.keys.refreshIntervalSeconds}s`);
      });
    });
}
