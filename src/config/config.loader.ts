/**
 * Loads `herald.yaml` from the config directory: YAML → ${ENV} interpolation → environment
 * overrides → schema validation. Any problem throws a ConfigError naming file, line and dotted key.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { heraldConfigSchema, type HeraldConfig } from './config.schema.js';
import { ConfigError, dottedPath, type ConfigProblem } from './config.errors.js';
import { interpolate, type InterpolationProblem } from './interpolate.js';
import { builtinApis } from './builtin-apis.js';

export const CONFIG_FILE_NAME = 'herald.yaml';

export interface LoadedConfig {
  config: HeraldConfig;
  /** Absolute path of the config directory (relative paths in the config resolve against it). */
  configDir: string;
  /** Absolute path of the file that was read, or `(inline)` for configs passed as objects. */
  file: string;
}

export interface LoadOptions {
  /** Config directory; default env HERALD_CONFIG_DIR or ./config. */
  dir?: string;
  env?: NodeJS.ProcessEnv;
}

export function defaultConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.HERALD_CONFIG_DIR || 'config');
}

export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const configDir = resolve(options.dir ?? defaultConfigDir(env));
  const file = resolve(configDir, CONFIG_FILE_NAME);
  if (!existsSync(file)) {
    throw new ConfigError([{ file, key: '', message: `config file not found (set HERALD_CONFIG_DIR or create ${CONFIG_FILE_NAME})` }]);
  }
  return parseConfigText(readFileSync(file, 'utf8'), file, configDir, env);
}

export function parseConfigText(text: string, file: string, configDir: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: false });
  if (doc.errors.length) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { file, key: '', message: `YAML syntax: ${e.message.split('\n')[0]}`, line: pos.line, column: pos.col };
      }),
    );
  }
  const raw = doc.toJS({ maxAliasCount: 50 }) ?? {};
  return validateConfig(raw, { file, configDir, env, doc, lineCounter });
}

interface ValidationContext {
  file: string;
  configDir: string;
  env: NodeJS.ProcessEnv;
  doc?: Document;
  lineCounter?: LineCounter;
}

/** Validates an already-parsed config object (used by the loader and by tests that build configs in code). */
export function validateConfig(raw: unknown, context: Partial<ValidationContext> = {}): LoadedConfig {
  const file = context.file ?? '(inline)';
  const configDir = context.configDir ?? resolve('config');
  const env = context.env ?? process.env;
  const interpolationProblems: InterpolationProblem[] = [];
  const interpolated = interpolate(raw, env, interpolationProblems);
  const problems: ConfigProblem[] = interpolationProblems.map((p) => locate(context, file, p.path, p.message));
  if (problems.length) throw new ConfigError(problems);

  const withOverrides = applyEnvOverrides(interpolated, env);
  const result = heraldConfigSchema.safeParse(withOverrides);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const path = issue.path as (string | number)[];
        if (issue.code === 'unrecognized_keys') {
          const keys = (issue as { keys: string[] }).keys;
          return locate(context, file, [...path, keys[0]!], `unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')}`);
        }
        return locate(context, file, path, describeIssue(issue));
      }),
    );
  }
  const config = result.data;
  config.issuer = config.issuer.replace(/\/+$/, '');
  config.apis.push(...builtinApis(config.issuer));
  return { config, configDir, file };
}

function describeIssue(issue: { code: string; message: string; expected?: unknown; input?: unknown }): string {
  if (issue.code === 'invalid_type' && issue.input === undefined) return `required (expected ${String(issue.expected)})`;
  return issue.message.replace(/^Invalid input: /, '');
}

function locate(context: Partial<ValidationContext>, file: string, path: (string | number)[], message: string): ConfigProblem {
  const problem: ConfigProblem = { file, key: dottedPath(path), message };
  if (context.doc && context.lineCounter) {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = context.doc.getIn(path.slice(0, depth), true);
      if (isNode(node) && node.range) {
        const pos = context.lineCounter.linePos(node.range[0]);
        problem.line = pos.line;
        problem.column = pos.col;
        break;
      }
    }
  }
  return problem;
}

/** Deployment settings that operators expect to set by environment variable. */
function applyEnvOverrides(value: unknown, env: NodeJS.ProcessEnv): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value;
  const config = structuredClone(value) as Record<string, any>;
  const section = (name: string): Record<string, unknown> => {
    if (!config[name] || typeof config[name] !== 'object') config[name] = {};
    return config[name];
  };
  if (env.HERALD_ISSUER) config.issuer = env.HERALD_ISSUER;
  if (env.HERALD_MODE) config.mode = env.HERALD_MODE;
  if (env.PORT) section('server').port = Number(env.PORT);
  if (env.HOST) section('server').host = env.HOST;
  if (env.DATABASE_URL) section('storage').url = env.DATABASE_URL;
  return config;
}
