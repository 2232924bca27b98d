/**
 * `herald explain`: the access token Herald would issue for a connector, a sample upstream
 * identity, a client and scopes — and where each claim comes from (transform file:line, account
 * attribute, static value, Herald). Runs the real transform chain; writes nothing.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { createTransformEngine } from '../../transforms/transform-engine.js';
import { ExplainError, ExplainService, type ExplainResult } from '../../transforms/explain.service.js';
import { TransformLoadError } from '../../transforms/transform-errors.js';
import { UsersRepository } from '../../users/users.repository.js';
import { CliError, loadCliConfig, print, withDatabase } from '../cli-context.js';

interface ExplainOptions {
  connector: string;
  client: string;
  scopes: string;
  identity: string;
  account?: string;
  user?: string;
  json?: boolean;
}

function readJson(file: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CliError(`${what} ${file}: ${(error as Error).message}`);
  }
}

export function printExplanation(result: ExplainResult): void {
  print(`Connector ${result.connector}, client ${result.client}`);
  const t = result.transforms;
  print(`Transforms: ${t.chain.length ? t.chain.join(' → ') : '(none)'} — ${t.outcome}${t.runs.length ? ` (${t.runs.map((r) => `${r.transform} ${r.ms.toFixed(1)} ms`).join(', ')})` : ''}`);
  for (const log of t.logs) print(`  log ${log.transform}: ${log.message}${log.data !== null ? ` ${JSON.stringify(log.data)}` : ''}`);
  if (t.accountUpdates) print(`  account updates: ${JSON.stringify(t.accountUpdates)}`);
  if (t.risk !== undefined) print(`  risk score: ${t.risk}`);
  if (result.accessToken) {
    print('\nAccess token payload:');
    print(JSON.stringify(result.accessToken, null, 2));
    print('\nWhere each claim comes from:');
    const width = Math.max(...Object.keys(result.origins).map((k) => k.length));
    for (const [claim, origin] of Object.entries(result.origins)) print(`  ${claim.padEnd(width)}  ${origin}`);
  }
  const unresolved = Object.entries(result.unresolved);
  if (unresolved.length) {
    print('\nListed by the scopes but without a value:');
    for (const [claim, why] of unresolved) print(`  ${claim}: ${why}`);
  }
  if (result.problems.length) {
    print('\nHerald would NOT issue this token:');
    for (const problem of result.problems) print(`  - ${problem}`);
  }
}

export function registerExplainCommand(program: Command): void {
  program
    .command('explain')
    .description('Show the access token Herald would issue for a sample sign-in, and where each claim comes from')
    .requiredOption('--connector <id>', 'connector the user signs in through')
    .requiredOption('--client <id>', 'OAuth client')
    .requiredOption('--scopes <scopes>', 'requested scopes, space-separated (e.g. "openid trades")')
    .requiredOption('--identity <file>', 'JSON file: sample upstream identity { subject, attributes, email?, amr?, protocol? }')
    .option('--account <file>', 'JSON file: sample account { id?, externalId?, core?, enterprise?, custom? }')
    .option('--user <id>', 'use a stored account (reads the database)')
    .option('--json', 'machine-readable output')
    .action(async (opts: ExplainOptions, command: Command) => {
      const loaded = loadCliConfig(command);
      const connector = loaded.config.connectors.find((c) => c.id === opts.connector);
      if (!connector) throw new CliError(`unknown connector "${opts.connector}"`);
      let engine;
      try {
        engine = await createTransformEngine(loaded.config);
      } catch (error) {
        if (error instanceof TransformLoadError) throw new CliError(error.message, 1);
        throw error;
      }
      try {
        const request = {
          connector: opts.connector,
          client: opts.client,
          scopes: opts.scopes,
          identity: readJson(opts.identity, 'identity'),
          account: opts.account ? readJson(opts.account, 'account') : undefined,
          userId: opts.user,
        };
        const explain = async (service: ExplainService) => {
          try {
            return await service.explain(request);
          } catch (error) {
            if (error instanceof ExplainError) throw new CliError(error.message);
            throw error;
          }
        };
        const result = opts.user
          ? await withDatabase(loaded, (ds) => explain(new ExplainService(loaded.config, engine.pipeline, { accounts: new UsersRepository(ds) })))
          : await explain(new ExplainService(loaded.config, engine.pipeline));
        if (opts.json) print(JSON.stringify(result, null, 2));
        else printExplanation(result);
        if (!result.wouldIssue) throw new CliError('explain: Herald would not issue this token', 2);
      } finally {
        await engine.close();
      }
    });
}
