// Herald under test: the production build (dist/) with a bench config, SQLite, audit on.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';

const { validateConfig } = await import('../dist/src/config/config.loader.js');
const { createHerald } = await import('../dist/src/server.js');
const { CLIENT_ID, CLIENT_SECRET, API } = process.env;

const port = await new Promise((resolve) => {
  const probe = createServer();
  probe.listen(0, '127.0.0.1', () => {
    const { port } = probe.address();
    probe.close(() => resolve(port));
  });
});
const dir = mkdtempSync(join(tmpdir(), 'herald-bench-'));
const loaded = validateConfig(
  {
    issuer: `http://127.0.0.1:${port}`,
    storage: { url: `sqlite:${join(dir, 'herald.sqlite')}` },
    apis: [{ id: 'bench', identifier: API, scopes: ['bench'], accessTokenTtl: 900, signingAlg: 'ES256' }],
    scopes: { bench: { claims: [] } },
    clients: [{ id: CLIENT_ID, secret: CLIENT_SECRET, grantTypes: ['client_credentials'], apis: ['bench'] }],
    // Audit stays on as in production: JSON lines to stdout (discarded by the bench) and the DB.
    audit: { log: process.env.BENCH_AUDIT_LOG !== '0', database: process.env.BENCH_AUDIT_DB !== '0' },
  },
  { env: {} },
);
const herald = await createHerald(loaded, { port, host: '127.0.0.1', logLevels: ['error'] });
process.stderr.write(`${JSON.stringify({ ready: true, url: herald.url })}\n`);
