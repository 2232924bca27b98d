/**
 * A Token Status List server peer on loopback: publishes each registered issuer's list at
 * /<name>/status/1 (Content-Type application/statuslist+jwt) and its JWKS at /<name>/jwks, plus
 * endpoints that misbehave one way each (redirect, slow, oversized, wrong content type, wrong
 * sub, bad signature, wrong typ, expired, a decompression bomb).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deflateSync } from 'node:zlib';
import { sign } from 'node:crypto';
import type { SdJwtIssuer } from './sd-jwt-issuer.js';

export const MISBEHAVIOURS = ['redirect', 'slow', 'huge', 'html', 'wrongsub', 'badsig', 'wrongtyp', 'expired', 'bomb', 'notfound'] as const;
export type Misbehaviour = (typeof MISBEHAVIOURS)[number];

export class StatusListServer {
  private server?: Server;
  private readonly issuers = new Map<string, SdJwtIssuer>();
  base = '';
  /** Requests per path (to observe caching). */
  readonly hits = new Map<string, number>();

  /** Publishes `issuer`'s list under /<name>/ and points its new credentials at it. */
  register(name: string, issuer: SdJwtIssuer): void {
    this.issuers.set(name, issuer);
    issuer.statusUri = this.statusUri(name);
  }

  statusUri(name: string, variant: Misbehaviour | '1' = '1'): string {
    return `${this.base}/${name}/status/${variant}`;
  }

  jwksUri(name: string): string {
    return `${this.base}/${name}/jwks`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      this.hits.set(path, (this.hits.get(path) ?? 0) + 1);
      const [, name, kind, variant] = path.split('/');
      const issuer = name ? this.issuers.get(name) : undefined;
      const send = (status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': type, ...headers });
        res.end(body);
      };
      if (!issuer) return send(404, 'text/plain', 'not found');
      if (kind === 'jwks') return send(200, 'application/json', JSON.stringify(issuer.jwks));
      if (kind !== 'status') return send(404, 'text/plain', 'not found');
      const uri = `${this.base}${path}`;
      const token = (options: Parameters<SdJwtIssuer['statusListToken']>[1] = {}) => send(200, 'application/statuslist+jwt', issuer.statusListToken(uri, options));
      switch (variant as Misbehaviour | '1') {
        case '1':
          return token();
        case 'redirect':
          return send(302, 'text/plain', '', { location: this.statusUri(name!) });
        case 'slow': {
          const timer = setTimeout(() => token(), 5000);
          res.on('close', () => clearTimeout(timer));
          return;
        }
        case 'huge':
          return send(200, 'application/statuslist+jwt', 'A'.repeat(2 * 1024 * 1024));
        case 'html':
          return send(200, 'text/html', '<html></html>');
        case 'wrongsub':
          return token({ sub: this.statusUri(name!) });
        case 'badsig':
          return token({ badSignature: true });
        case 'wrongtyp':
          return token({ typ: 'JWT' });
        case 'expired':
          return token({ exp: Math.floor(Date.now() / 1000) - 3600 });
        case 'bomb':
          return send(200, 'application/statuslist+jwt', bombToken(issuer, uri));
        default:
          return send(404, 'text/plain', 'not found');
      }
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    for (const [name, issuer] of this.issuers) issuer.statusUri = this.statusUri(name);
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

/** A correctly signed token whose list inflates to 64 MiB of zeros (compressed ≈ 65 KB). */
function bombToken(issuer: SdJwtIssuer, uri: string): string {
  const lst = deflateSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 }).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const b64json = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const header = { alg: 'ES256', typ: 'statuslist+jwt', ...(issuer.x5c ? { x5c: issuer.x5c } : { kid: issuer.kid }) };
  const payload = { iss: issuer.iss, sub: uri, iat: now, exp: now + 600, ttl: 60, status_list: { bits: 1, lst } };
  const input = `${b64json(header)}.${b64json(payload)}`;
  const signature = sign('sha256', Buffer.from(input), { key: issuer.key.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  return `${input}.${signature}`;
}
