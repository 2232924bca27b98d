/**
 * Start-up as an operator runs it: the built server (`node dist/src/main.js`, what `npm start`
 * runs) refuses an invalid config naming the dotted key, and starts on a valid one.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../support/ports.js';

const root = resolve('.');
const main = join(root, 'dist', 'src', 'main.js');

function run(configDir: string, env: NodeJS.ProcessEnv = {}, untilReady = false): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, ['--no-node-snapshot', main], { cwd: configDir, env: { PATH: process.env.PATH, HERALD_CONFIG_DIR: configDir, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      if (untilReady && stdout.includes('Herald started')) child.kill('SIGTERM');
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

describe('start-up', () => {
  beforeAll(() => {
    if (!existsSync(main)) spawnSync('npx', ['nest', 'build'], { cwd: root, stdio: 'inherit' });
  }, 120_000);

  test('an invalid config stops start-up with the file, line and dotted key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-start-'));
    writeFileSync(join(dir, 'herald.yaml'), 'issuer: http://127.0.0.1:1\nclients:\n  - id: web\n    secret: short\n    redirectUris: [https://app.example/cb]\n');
    const result = await run(dir);
    expect(result.code).toBe(78);
    expect(result.stderr).toContain(`${join(dir, 'herald.yaml')}:4:13`);
    expect(result.stderr).toContain('clients[0].secret: expected a client secret of at least 32 characters');
    expect(result.stdout).not.toContain('Herald started');
  }, 30_000);

  test('a valid config starts Herald, creating the SQLite database on first start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-start-'));
    const port = await freePort();
    writeFileSync(join(dir, 'herald.yaml'), `issuer: http://127.0.0.1:${port}\nstorage:\n  url: sqlite:data/herald.sqlite\n`);
    const result = await run(dir, { PORT: String(port) }, true);
    expect(result.stdout).toContain('Herald started');
    expect(existsSync(join(dir, 'data', 'herald.sqlite'))).toBe(true);
    expect(result.stderr).not.toMatch(/\bd":|PRIVATE KEY/);
  }, 30_000);
});
