/** Shared plumbing of CLI commands: config loading with readable errors, database access. */
import type { Command } from 'commander';
import type { DataSource } from 'typeorm';
import { loadConfig, type LoadedConfig } from '../config/config.loader.js';
import { ConfigError } from '../config/config.errors.js';
import { openDataSource } from '../storage/data-source.js';

export interface GlobalOptions {
  config?: string;
}

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function loadCliConfig(command: Command): LoadedConfig {
  const options = command.optsWithGlobals<GlobalOptions>();
  try {
    return loadConfig({ dir: options.config });
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, 78);
    throw error;
  }
}

export async function withDatabase<T>(loaded: LoadedConfig, run: (dataSource: DataSource) => Promise<T>): Promise<T> {
  const dataSource = await openDataSource({ url: loaded.config.storage.url });
  try {
    return await run(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

export function print(line = ''): void {
  process.stdout.write(`${line}\n`);
}
