// Baseline 1: how many ES256 JWTs one core signs with node:crypto alone (no HTTP, no framework).
import { generateKeyPairSync, sign } from 'node:crypto';

const seconds = Number(process.argv[2] ?? 3);
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const header = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'at+jwt', kid: 'k' })).toString('base64url');
let count = 0;
const end = performance.now() + seconds * 1000;
while (performance.now() < end) {
  for (let i = 0; i < 100; i++) {
    const payload = Buffer.from(
      JSON.stringify({ iss: 'http://127.0.0.1', sub: 'bench', aud: 'https://api.example.com/bench', iat: 1, exp: 2, jti: String(count), client_id: 'bench', scope: 'bench' }),
    ).toString('base64url');
    const input = `${header}.${payload}`;
    const signature = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
    if (!signature) throw new Error('unreachable');
    count++;
  }
}
process.stdout.write(`${JSON.stringify({ signaturesPerSecond: count / seconds })}\n`);
