/** The operator CLI: `npx herald <command>`. */
import 'reflect-metadata';
import { Command, CommanderError } from 'commander';
import { COMMAND_GROUPS } from './commands/index.js';
import { CliError } from './cli-context.js';

export async function runCli(argv: string[]): Promise<number> {
  const program = new Command();
  program
    .name('herald')
    .description('Herald identity broker — operator commands')
    .option('-c, --config <dir>', 'config directory (default: $HERALD_CONFIG_DIR or ./config)')
    .exitOverride()
    .showHelpAfterError();
  for (const register of COMMAND_GROUPS) register(program);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof CliError) {
      process.stderr.write(`${error.message}\n`);
      return error.exitCode;
    }
    process.stderr.write(`herald: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runCli(process.argv).then((code) => process.exit(code));
}
