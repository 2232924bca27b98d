/**
 * A product API that keeps per-user settings Herald puts into tokens (a claim provider's other
 * end): a real HTTP server on loopback. It authenticates Herald either by a static API key or by
 * an OAuth access token it verifies against an authorization server's JWKS (Herald itself in the
 * tests: audience, issuer, `typ: at+jwt` and scope are checked with jose). Switches make it fail
 * the ways APIs fail: errors, hangs, garbage, or not listening at all.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { freePort } from '../support/ports.js';

export type ClaimsApiMode = 'up' | 'error' | 'hang' | 'garbage';

export interface ClaimsApiRequest {
  path: string;
  /** How the caller authenticated: `api-key`, `bearer` (verified JWT, with its client_id), or `none`. */
  auth: string;
}

export interface TrustedIssuer {
  issuer: string;
  audience: string;
  scope: string;
}

export class ClaimsApi {
  mode: ClaimsApiMode = 'up';
  /** Settings per user key (the last path segment before /settings). */
  readonly settings = new Map<string, Record<string, unknown>>();
  readonly requests: ClaimsApiRequest[] = [];
  private trusted: TrustedIssuer | undefined;
  private jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly port: number,
    readonly apiKey: string,
  ) {}

  static async start(options: { apiKey: string; port?: number }): Promise<ClaimsApi> {
    const api = new ClaimsApi(options.port ?? (await freePort()), options.apiKey);
    await api.listen();
    return api;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Accept access tokens from this authorization server (Herald) for this audience and scope. */
  trust(trusted: TrustedIssuer): void {
    this.trusted = trusted;
    this.jwks = createRemoteJWKSet(new URL(`${trusted.issuer}/jwks`));
  }

  async listen(): Promise<void> {
    if (this.server) return;
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  /** Stops listening: callers get "connection refused" until listen() again. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  reset(): void {
    this.mode = 'up';
    this.requests.length = 0;
  }

  private async authenticate(req: IncomingMessage): Promise<string | undefined> {
    if (req.headers['x-api-key'] === this.apiKey) return 'api-key';
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (bearer && this.trusted && this.jwks) {
      try {
        const { payload } = await jwtVerify(bearer, this.jwks, { issuer: this.trusted.issuer, audience: this.trusted.audience, typ: 'at+jwt' });
        if (typeof payload.scope === 'string' && payload.scope.split(' ').includes(this.trusted.scope)) return `bearer:${String(payload.client_id)}`;
      } catch {
        return undefined;
      }
    }
    return undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', this.origin).pathname;
    const auth = await this.authenticate(req);
    this.requests.push({ path, auth: auth ?? 'none' });
    if (this.mode === 'hang') return; // accepted, never answered (stop() destroys the socket)
    const send = (status: number, body: string, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (this.mode === 'error') return send(503, JSON.stringify({ error: 'maintenance' }));
    if (this.mode === 'garbage') return send(200, '<html>not json</html>', 'text/html');
    if (!auth) return send(401, JSON.stringify({ error: 'unauthorized' }));
    const match = /^\/users\/([^/]+)\/settings$/.exec(path);
    if (req.method !== 'GET' || !match) return send(404, JSON.stringify({ error: 'not_found' }));
    const settings = this.settings.get(decodeURIComponent(match[1]!));
    if (!settings) return send(404, JSON.stringify({ error: 'no settings' }));
    send(200, JSON.stringify(settings));
  }
}
