// `npm run bench`: client-credentials token throughput of Herald against two baselines measured
// in the same run — raw ES256 signing on one core, and a bare oidc-provider — as ratios.
// Servers run pinned to core 0, the load generator (autocannon) to core 1 (taskset when available).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const DURATION = Number(process.env.BENCH_DURATION ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 5);
const CLIENT_ID = 'bench';
const CLIENT_SECRET = 'bench-secret-0123456789abcdef-0123456789';
const API = 'https://api.example.com/bench';
const AUTH = `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`;
const BODY = 'grant_type=client_credentials&scope=bench';
const SERVER_NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '--max-semi-space-size=32').split(' ').filter(Boolean);
const taskset = spawnSync('taskset', ['--version']).status === 0 && cpus().length > 1;
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim() || 100);

function pinned(core, script, env = {}, stdio = ['ignore', 'pipe', 'pipe']) {
  // Both servers run with the same V8 flags as `npm start` (a larger young generation); Herald
  // also with --no-node-snapshot, which isolated-vm (transforms) wants on Node 20+.
  const server = script.endsWith('-server.mjs') || script === 'bare-provider.mjs';
  const args = [...(server ? SERVER_NODE_FLAGS : []), ...(script === 'herald-server.mjs' ? ['--no-node-snapshot'] : []), join(here, script)];
  const [command, argv] = taskset ? ['taskset', ['-c', String(core), process.execPath, ...args]] : [process.execPath, args];
  return spawn(command, argv, { cwd: root, env: { ...process.env, CLIENT_ID, CLIENT_SECRET, API, ...env }, stdio });
}

function collect(child) {
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  return new Promise((resolve, reject) =>
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(`child exited ${code}`)))),
  );
}

function waitReady(child) {
  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stderr.on('data', (chunk) => {
      buffer += chunk;
      for (const line of buffer.split('\n')) {
        if (line.includes('"ready":true')) return resolve(JSON.parse(line).url);
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code} before ready:\n${buffer}`)));
  });
}

/** CPU seconds (user + system) a process has used so far; the server's pid is the node child under taskset. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

async function load(url, seconds) {
  return collect(pinned(1, 'load.mjs', { URL: `${url}/token`, CONNECTIONS: String(CONNECTIONS), DURATION: String(seconds), BODY, AUTH }));
}

async function measureServer(name, script) {
  const server = pinned(0, script);
  server.stdout.resume(); // audit lines: read and discard, so the pipe never fills
  const url = await waitReady(server);
  const probe = await fetch(`${url}/token`, { method: 'POST', headers: { authorization: AUTH, 'content-type': 'application/x-www-form-urlencoded' }, body: BODY });
  const json = await probe.json();
  if (!json.access_token) throw new Error(`${name}: token request failed: ${JSON.stringify(json)}`);
  await load(url, WARMUP);
  const before = cpuSeconds(server.pid);
  const result = await load(url, DURATION);
  const cpu = cpuSeconds(server.pid) - before;
  server.kill('SIGTERM');
  return { ...result, cpuSeconds: cpu, cpuPerRequestMicros: (cpu / result.requests) * 1e6 };
}

if (!existsSync(join(root, 'dist', 'src', 'server.js'))) {
  process.stderr.write('building Herald (npm run build)…\n');
  spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
}

const fmt = (n, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
process.stdout.write(`Herald token benchmark — Node ${process.version}, ${cpus()[0]?.model ?? 'cpu'} ×${cpus().length}, ${CONNECTIONS} connections, ${DURATION}s per run${taskset ? ', servers on core 0, load on core 1' : ''}\n\n`);

// Shared virtual machines drift from minute to minute: the servers are measured in alternating
// rounds (bare, Herald, bare, Herald…) and each is represented by its median round.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const median = (runs) => [...runs].sort((a, b) => a.perSecond - b.perSecond)[Math.floor(runs.length / 2)];
const line = (label, r) =>
  `${label.padEnd(44)} ${fmt(r.perSecond)} tokens/s   p50 ${fmt(r.p50, 1)} ms   p99 ${fmt(r.p99, 1)} ms   CPU ${fmt(r.cpuPerRequestMicros)} µs/token   (${r.requests} requests, ${r.non2xx} non-2xx, ${r.errors} errors)\n`;
const raws = [];
const bares = [];
const heralds = [];
for (let round = 1; round <= ROUNDS; round++) {
  raws.push(await collect(pinned(0, 'raw-sign.mjs')));
  bares.push(await measureServer('bare oidc-provider', 'bare-provider.mjs'));
  heralds.push(await measureServer('Herald', 'herald-server.mjs'));
  process.stdout.write(`round ${round}/${ROUNDS}: raw ${fmt(raws.at(-1).signaturesPerSecond)}/s, bare ${fmt(bares.at(-1).perSecond)}/s, Herald ${fmt(heralds.at(-1).perSecond)}/s (Herald/bare ${fmt(heralds.at(-1).perSecond / bares.at(-1).perSecond, 2)})\n`);
}
const raw = { signaturesPerSecond: [...raws.map((r) => r.signaturesPerSecond)].sort((a, b) => a - b)[Math.floor(raws.length / 2)] };
const bare = median(bares);
const herald = median(heralds);
process.stdout.write(`\nmedian of ${ROUNDS} rounds\n`);
process.stdout.write(`raw ES256 JWT signing, node:crypto, 1 core   ${fmt(raw.signaturesPerSecond)} signatures/s\n`);
process.stdout.write(line('bare oidc-provider (memory adapter, jose)', bare));
process.stdout.write(line('Herald (SQLite, audit on)', herald));

// The headline ratio pairs each Herald round with the bare round measured just before it (the
// same minutes of the same machine), and takes the median of those ratios.
const paired = heralds.map((h, i) => h.perSecond / bares[i].perSecond).sort((a, b) => a - b);
const ratios = {
  heraldToBare: paired[Math.floor(paired.length / 2)],
  heraldToBareOfMedians: herald.perSecond / bare.perSecond,
  heraldToRawSigning: herald.perSecond / raw.signaturesPerSecond,
  bareToRawSigning: bare.perSecond / raw.signaturesPerSecond,
  heraldCpuToBareCpu: herald.cpuPerRequestMicros / bare.cpuPerRequestMicros,
};
process.stdout.write(
  `\nHerald / bare oidc-provider: ${fmt(ratios.heraldToBare, 2)} (median of the per-round ratios ${paired.map((r) => fmt(r, 2)).join(', ')}; target ≥ 0.80)\n` +
    `Herald / raw signing:        ${fmt(ratios.heraldToRawSigning, 3)}   (bare / raw signing: ${fmt(ratios.bareToRawSigning, 3)})\n` +
    `CPU per token, Herald / bare: ${fmt(ratios.heraldCpuToBareCpu, 2)}\n`,
);

const results = { date: new Date().toISOString(), node: process.version, connections: CONNECTIONS, durationSeconds: DURATION, rounds: { raws, bares, heralds }, raw, bare, herald, ratios };
// Further benchmarks (bench/<name>.mjs exporting run()); transform overhead runs by default.
for (const extra of (process.env.BENCH_EXTRA ?? 'transforms').split(',').filter(Boolean)) {
  const module = await import(join(here, `${extra}.mjs`));
  results[extra] = await module.run({ root, write: (s) => process.stdout.write(s) });
}
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(`\nresults written to bench/results/latest.json\n`);
if (ratios.heraldToBare < 0.8) process.exitCode = 1;
