import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, parseConfigText } from './config.loader.js';
import { ConfigError } from './config.errors.js';
import { configJsonSchema } from './json-schema.js';

const VALID = `
issuer: https://login.example.com/
apis:
  - id: trading
    identifier: https://api.example.com/trading
    scopes: [trades]
scopes:
  trades:
    claims: [roles]
clients:
  - id: web
    secret: \${WEB_SECRET}
    redirectUris: [https://app.example.com/cb]
    apis: [trading]
`;

function problems(text: string, env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    parseConfigText(text, '/etc/herald/herald.yaml', '/etc/herald', env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('config loader', () => {
  const env = { WEB_SECRET: 's'.repeat(40) };

  test('a valid file loads with defaults, interpolation and built-in APIs', () => {
    const { config } = parseConfigText(VALID, 'herald.yaml', '/etc/herald', env);
    expect(config.issuer).toBe('https://login.example.com');
    expect(config.clients[0]!.secret).toBe(env.WEB_SECRET);
    expect(config.apis[0]!.accessTokenTtl).toBe(900);
    expect(config.keys.defaultAlgorithm).toBe('ES256');
    expect(config.apis.map((api) => api.id)).toEqual(['trading', 'scim', 'admin']);
  });

  test('an invalid value names the file, line and dotted key', () => {
    const error = problems(VALID.replace('redirectUris: [https://app.example.com/cb]', 'redirectUris: [not a url]'), env);
    expect(error.problems).toEqual([
      expect.objectContaining({ file: '/etc/herald/herald.yaml', key: 'clients[0].redirectUris[0]', message: 'expected an absolute URL', line: 13 }),
    ]);
    expect(error.message).toContain('/etc/herald/herald.yaml:13');
    expect(error.message).toContain('clients[0].redirectUris[0]: expected an absolute URL');
  });

  test('unknown keys, missing required keys and wrong types are each reported', () => {
    const error = problems(`issuer: 42\napis: [{ id: x, identifier: https://a.example, scopes: [s], colour: red }]\n`);
    const byKey = Object.fromEntries(error.problems.map((p) => [p.key, p.message]));
    expect(byKey.issuer).toMatch(/expected string/);
    expect(byKey['apis[0].colour']).toBe('unknown key "colour"');
  });

  test('cross-references are checked: unknown API, scope owned twice, secret needed', () => {
    const text = `
issuer: https://login.example.com
apis:
  - { id: a, identifier: https://a.example, scopes: [s] }
  - { id: b, identifier: https://b.example, scopes: [s] }
clients:
  - { id: web, redirectUris: [https://app.example.com/cb], apis: [c] }
`;
    const keys = problems(text).problems.map((p) => `${p.key}: ${p.message}`);
    expect(keys).toEqual(
      expect.arrayContaining([
        'apis[1].scopes[0]: scope "s" already belongs to API "a"',
        'clients[0].apis[0]: unknown API id "c"',
        'clients[0].secret: expected a secret for authMethod client_secret_basic',
      ]),
    );
  });

  test('a missing environment variable is reported at its key', () => {
    const error = problems(VALID, {});
    expect(error.problems[0]).toMatchObject({ key: 'clients[0].secret', message: 'environment variable WEB_SECRET is not set' });
  });

  test('environment values cannot change the YAML structure', () => {
    const { config } = parseConfigText(VALID, 'herald.yaml', '/etc/herald', { WEB_SECRET: 'x'.repeat(40) + '\nmode: development' });
    expect(config.mode).toBe('production');
  });

  test('the dev connector is refused outside development mode', () => {
    const text = `${VALID}connectors:\n  - { type: dev, id: dev, name: Dev }\n`;
    expect(problems(text, env).problems).toEqual([expect.objectContaining({ key: 'connectors[0].type' })]);
  });

  test('YAML syntax errors carry a position', () => {
    const error = problems('issuer: [unclosed\n');
    expect(error.problems[0]!.line).toBeGreaterThan(0);
    expect(error.problems[0]!.message).toMatch(/^YAML syntax/);
  });

  test('loadConfig reads herald.yaml from a directory and says when it is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-config-'));
    expect(() => loadConfig({ dir, env })).toThrow(/config file not found/);
    writeFileSync(join(dir, 'herald.yaml'), VALID);
    expect(loadConfig({ dir, env }).config.clients).toHaveLength(1);
  });

  test('config/herald.schema.json is the current schema (regenerate: npx herald config schema --out config/herald.schema.json)', () => {
    const committed = JSON.parse(readFileSync(join('config', 'herald.schema.json'), 'utf8'));
    expect(committed).toEqual(configJsonSchema());
  });

  test('the shipped demo config is valid', () => {
    expect(() => loadConfig({ dir: 'config', env: {} })).not.toThrow();
  });

  test('the JSON Schema describes every top-level section', () => {
    const schema = configJsonSchema() as { properties: Record<string, { description?: string }> };
    for (const [key, property] of Object.entries(schema.properties)) {
      expect([key, property.description]).toEqual([key, expect.any(String)]);
    }
  });
});
