/**
 * `herald transforms check | test | run`: the developer loop for claim transforms, offline (no
 * database, no server). check = type check + bundle + sandbox load of every transform, with
 * tsc-style file:line:col errors; test = fixture cases with readable diffs; run = one run on a
 * sample input. All exit non-zero on any problem. See docs/transforms.md.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { HeraldConfig } from '../../config/config.schema.js';
import { transformsConfigSchema, type TransformsConfig } from '../../transforms/transforms.config.js';
import { TransformLoadError, displayPath, formatDiagnostic } from '../../transforms/transform-errors.js';
import { TransformRegistry, listTransforms } from '../../transforms/transform-registry.service.js';
import { createTransformEngine } from '../../transforms/transform-engine.js';
import { referencedTransforms } from '../../transforms/transform-bindings.js';
import { fixturePath, loadFixtures, runCase, caseInput, FixtureFileError, type CaseResult } from '../../transforms/fixtures.js';
import { FixtureHttpCapability } from '../../transforms/transform-http.capability.js';
import { SampleInputError } from '../../transforms/fixture-input.js';
import { CliError, loadCliConfig, print } from '../cli-context.js';

interface DirOptions {
  dir?: string;
}

/** The config when there is one; `--dir` alone works without any (offline, CI). */
function optionalConfig(command: Command, opts: DirOptions): { config?: HeraldConfig; transforms: TransformsConfig; dir: string } {
  try {
    const config = loadCliConfig(command).config;
    return { config, transforms: config.transforms, dir: resolve(opts.dir ?? config.transforms.directory) };
  } catch (error) {
    if (!opts.dir) throw error;
    return { transforms: transformsConfigSchema.parse({}), dir: resolve(opts.dir) };
  }
}

function selected(dir: string, names: string[]): string[] {
  const all = listTransforms(dir);
  if (!names.length) return all;
  const unknown = names.filter((n) => !all.includes(n));
  if (unknown.length) throw new CliError(`no transform named ${unknown.map((n) => `"${n}"`).join(', ')} in ${dir}`);
  return names;
}

/** Loads `names` into a registry, printing load problems; undefined when anything failed. */
async function loadOrReport(setup: ReturnType<typeof optionalConfig>, names: string[]): Promise<TransformRegistry | undefined> {
  try {
    if (setup.config) {
      const engine = await createTransformEngine({ ...setup.config, transforms: { ...setup.config.transforms, directory: setup.dir } }, { names });
      return engine.registry;
    }
    const registry = new TransformRegistry({ directory: setup.dir, config: setup.transforms, names });
    await registry.load();
    return registry;
  } catch (error) {
    if (!(error instanceof TransformLoadError)) throw error;
    for (const problem of error.problems) for (const d of problem.diagnostics) print(formatDiagnostic(d));
    return undefined;
  }
}

function parseSecrets(values: string[] = []): Record<string, string> {
  const secrets: Record<string, string> = {};
  for (const value of values) {
    const at = value.indexOf('=');
    if (at <= 0) throw new CliError(`--secret expects name=value, got "${value}"`);
    secrets[value.slice(0, at)] = value.slice(at + 1);
  }
  return secrets;
}

function readJson(file: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CliError(`${what} ${file}: ${(error as Error).message}`);
  }
}

export function registerTransformCommands(program: Command): void {
  const transforms = program.command('transforms').description('Check, test and run claim transforms (transforms/*.ts)');

  transforms
    .command('check')
    .description('Type-check, bundle and load every transform in a sandbox; file:line:col errors, exit 1 on any')
    .argument('[names...]', 'transforms to check (default: all)')
    .option('-d, --dir <dir>', 'transforms directory (default: transforms.directory of the config)')
    .action(async (names: string[], opts: DirOptions, command: Command) => {
      const setup = optionalConfig(command, opts);
      // With a config, also what it references: a missing transform is an error too.
      const list = names.length || !setup.config ? selected(setup.dir, names) : [...new Set([...selected(setup.dir, []), ...referencedTransforms(setup.config)])].sort();
      const started = Date.now();
      const registry = await loadOrReport(setup, list);
      if (!registry) throw new CliError('transforms check failed', 1);
      await registry.close();
      print(`${list.length} transform(s) ok: ${list.join(', ') || '(none)'} — type check, bundle and sandbox load in ${Date.now() - started} ms`);
    });

  transforms
    .command('test')
    .description('Run the fixture cases of each transform (<name>.fixtures.yaml); diff per failure, exit 1 on any')
    .argument('[names...]', 'transforms to test (default: all)')
    .option('-d, --dir <dir>', 'transforms directory (default: transforms.directory of the config)')
    .action(async (names: string[], opts: DirOptions, command: Command) => {
      const setup = optionalConfig(command, opts);
      const list = selected(setup.dir, names);
      const registry = await loadOrReport(setup, list);
      if (!registry) throw new CliError('transforms test: some transforms do not load', 1);
      let passed = 0;
      let failed = 0;
      let missing = 0;
      try {
        for (const name of list) {
          const file = fixturePath(setup.dir, name);
          let fixtures;
          try {
            fixtures = loadFixtures(file);
          } catch (error) {
            if (!(error instanceof FixtureFileError)) throw error;
            print(`${name}\n  ✗ ${error.message}`);
            failed++;
            continue;
          }
          if (!fixtures) {
            print(`${name}\n  ! no fixtures (${name}.fixtures.yaml)`);
            missing++;
            continue;
          }
          print(`${name} (${fixtures.cases.length} case${fixtures.cases.length === 1 ? '' : 's'})`);
          for (const testCase of fixtures.cases) {
            const result: CaseResult = await runCase((input, overrides) => registry.run(name, input, overrides), fixtures.defaults, testCase);
            if (result.ok) {
              passed++;
              print(`  ✓ ${result.name} (${result.ms.toFixed(1)} ms)`);
            } else {
              failed++;
              print(`  ✗ ${result.name}${result.line ? ` (${name}.fixtures.yaml:${result.line})` : ''}`);
              for (const line of result.details) print(`      ${line}`);
            }
          }
        }
      } finally {
        await registry.close();
      }
      print(`\n${passed} passed, ${failed} failed${missing ? `, ${missing} transform(s) without fixtures` : ''}`);
      if (failed) throw new CliError(`transforms test: ${failed} failing case(s)`, 1);
    });

  transforms
    .command('run')
    .description('Run one transform on a sample input (a fixture case `input`) and print its output')
    .argument('<name>', 'transform name')
    .requiredOption('-i, --input <file>', 'JSON file: { upstream: { subject, attributes… }, account?, connector?, client?, claims? }')
    .option('--http <file>', 'JSON file of canned http.getJson answers by URL (default: real HTTP to allow-listed origins)')
    .option('--secret <name=value...>', 'secrets for ctx.secrets.get (default: those the config grants)')
    .option('-d, --dir <dir>', 'transforms directory (default: transforms.directory of the config)')
    .action(async (name: string, opts: DirOptions & { input: string; http?: string; secret?: string[] }, command: Command) => {
      const setup = optionalConfig(command, opts);
      selected(setup.dir, [name]);
      let input: Record<string, unknown>;
      try {
        input = caseInput({}, readJson(opts.input, 'input') as Record<string, unknown>);
      } catch (error) {
        if (error instanceof SampleInputError) throw new CliError(`input ${opts.input}: ${error.message}`);
        throw error;
      }
      const registry = await loadOrReport(setup, [name]);
      if (!registry) throw new CliError(`transform ${name} does not load`, 1);
      try {
        const overrides = {
          ...(opts.http ? { http: new FixtureHttpCapability(readJson(opts.http, 'http answers') as Record<string, unknown>) } : {}),
          ...(opts.secret ? { secrets: parseSecrets(opts.secret) } : {}),
        };
        const result = await registry.run(name, input, overrides);
        const lines = registry.get(name)!.lines;
        const file = registry.get(name)!.compiled.file;
        if (result.ok && result.output.kind === 'result') {
          const origins = Object.fromEntries(Object.keys(result.output.claims).map((c) => [c, `transform:${displayPath(file)}:${lines.claims[c] ?? lines.runLine}`]));
          print(JSON.stringify({ ok: true, output: result.output, origins, logs: result.logs, ms: Number(result.ms.toFixed(2)) }, null, 2));
        } else if (result.ok) {
          print(JSON.stringify({ ok: true, output: result.output, logs: result.logs, ms: Number(result.ms.toFixed(2)) }, null, 2));
        } else {
          const { stack: _stack, ...error } = result.error;
          print(JSON.stringify({ ok: false, error, logs: result.logs, ms: Number(result.ms.toFixed(2)) }, null, 2));
          throw new CliError(`transform ${name} failed: ${error.kind}: ${error.message}`, 1);
        }
      } finally {
        await registry.close();
      }
    });
}
