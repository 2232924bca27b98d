/**
 * Starts Herald: the Nest application (login pages, connectors, SCIM, admin) and oidc-provider
 * behind one HTTP server. Requests for oidc-provider's endpoints go straight to it — no Express
 * routing on the token path (see bench/README.md for what that buys); everything else goes to
 * the Nest/Express app.
 */
import 'reflect-metadata';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import express, { type NextFunction, type Request, type Response } from 'express';
import { ShutdownSignal, type LogLevel } from '@nestjs/common';
import { AppModule } from './app.module.js';
import type { LoadedConfig } from './config/config.loader.js';
import type { RuntimeOptions } from './config/config.module.js';
import { ProviderHost } from './oauth/provider-host.js';
import { isProviderPath } from './oauth/routes.js';
import { sendScimBodyError } from './users/scim/scim-http.js';

export interface HeraldOptions extends RuntimeOptions {
  /** Port to listen on; 0 picks a free one. Default: config server.port. */
  port?: number;
  host?: string;
  logLevels?: LogLevel[];
}

export interface HeraldInstance {
  app: NestExpressApplication;
  server: Server;
  /** Base URL the server actually listens on (http://host:port). */
  url: string;
  close(): Promise<void>;
}

const JSON_LIMIT = '100kb';
/** SAML responses arrive form-encoded and can be large; the SAML connector caps them itself. */
const FORM_LIMIT = '2mb';

export async function createHerald(loaded: LoadedConfig, options: HeraldOptions = {}): Promise<HeraldInstance> {
  const expressApp = express();
  expressApp.disable('x-powered-by');
  expressApp.set('trust proxy', loaded.config.server.trustProxy);
  expressApp.use(express.json({ limit: JSON_LIMIT, type: ['application/json', 'application/*+json'] }));
  expressApp.use(express.urlencoded({ extended: false, limit: FORM_LIMIT, parameterLimit: 200 }));
  expressApp.use(bodyErrorHandler);

  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(loaded, options), new ExpressAdapter(expressApp), {
    bodyParser: false,
    abortOnError: false,
    logger: options.logLevels ?? (options.quiet ? ['error'] : ['error', 'warn', 'log']),
  });
  // SIGHUP reloads transforms (src/transforms/transform-reloader.ts); the other signals shut down.
  app.enableShutdownHooks(Object.values(ShutdownSignal).filter((signal) => signal !== ShutdownSignal.SIGHUP));
  await app.init();

  const host = app.get(ProviderHost);
  const handler = dispatcher(host, expressApp, new URL(loaded.config.issuer), loaded.config.server.trustProxy);
  const server = createServer(handler);
  server.keepAliveTimeout = 65_000;
  const port = options.port ?? loaded.config.server.port;
  const listenHost = options.host ?? loaded.config.server.host;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, listenHost, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const displayHost = listenHost === '0.0.0.0' || listenHost === '::' ? 'localhost' : listenHost;
  return {
    app,
    server,
    url: `http://${displayHost}:${address.port}`,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await app.close();
    },
  };
}

function dispatcher(host: ProviderHost, expressApp: express.Express, issuer: URL, trustProxy: boolean) {
  /**
   * oidc-provider builds endpoint URLs from the request's host: pin it to the issuer's, so that a
   * forged Host or X-Forwarded-Host can never put another origin into discovery or redirects.
   */
  const pinHost = (req: IncomingMessage): void => {
    req.headers.host = issuer.host;
    if (trustProxy) {
      req.headers['x-forwarded-host'] = issuer.host;
      req.headers['x-forwarded-proto'] = issuer.protocol.slice(0, -1);
    }
  };
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q === -1 ? url : url.slice(0, q);
    if (pathname === '/.well-known/oauth-authorization-server') {
      // RFC 8414 metadata: the same document as OpenID discovery (a superset of the RFC's fields).
      req.url = `/.well-known/openid-configuration${q === -1 ? '' : url.slice(q)}`;
      pinHost(req);
      host.handle(req, res);
      return;
    }
    if (isProviderPath(pathname)) {
      pinHost(req);
      host.handle(req, res);
      return;
    }
    expressApp(req as Request, res as Response);
  };
}

/** Malformed or oversized bodies get a 400/413 with an OAuth-style error, never a 500 or a stack. */
function bodyErrorHandler(error: any, req: Request, res: Response, next: NextFunction): void {
  if (!error) return next();
  const status = error.type === 'entity.too.large' ? 413 : error.status >= 400 && error.status < 500 ? error.status : 400;
  // SCIM clients expect SCIM errors (RFC 7644 §3.12: invalidSyntax).
  if (req.path.startsWith('/scim/')) return sendScimBodyError(res, status);
  res.status(status).json({
    error: 'invalid_request',
    error_description: status === 413 ? 'request body too large' : 'request body could not be parsed',
  });
}
