/** `herald config check` (offline validation) and `herald config schema` (JSON Schema for editors). */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { configJsonSchema } from '../../config/json-schema.js';
import { BUILTIN_API_IDS } from '../../config/builtin-apis.js';
import { loadCliConfig, print } from '../cli-context.js';

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('Validate and document the configuration');

  config
    .command('check')
    .description('Validate config/herald.yaml offline; exits non-zero with the dotted key of every problem')
    .action((_opts, command: Command) => {
      const loaded = loadCliConfig(command);
      const c = loaded.config;
      print(`${loaded.file}: valid`);
      print(`  issuer ${c.issuer} (${c.mode})`);
      const own = c.apis.filter((api) => !(BUILTIN_API_IDS as readonly string[]).includes(api.id));
      print(`  ${own.length} API(s) (+ built-in ${BUILTIN_API_IDS.join(', ')}), ${Object.keys(c.scopes).length} scope(s), ${c.clients.length} client(s), ${c.connectors.length} connector(s)`);
    });

  config
    .command('schema')
    .description('Print the JSON Schema of herald.yaml (or write it with --out)')
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .action((opts: { out?: string }) => {
      const text = `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
      if (opts.out) {
        writeFileSync(opts.out, text);
        print(`wrote ${opts.out}`);
      } else process.stdout.write(text);
    });
}
