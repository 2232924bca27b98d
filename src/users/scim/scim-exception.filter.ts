/**
 * Every error under /scim/v2 in the SCIM error format (RFC 7644 §3.12), including access-token
 * errors from the guard (401/403 with WWW-Authenticate, RFC 6750) and anything unexpected
 * (500, logged, no internals in the body).
 */
import { ArgumentsHost, Catch, HttpException, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { AccessTokenError } from '../../auth/access-token.verifier.js';
import { ScimError, scimErrorBody } from './scim.errors.js';
import { sendScim } from './scim-http.js';

@Catch()
export class ScimExceptionFilter implements ExceptionFilter {
  catch(error: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) return;
    if (error instanceof ScimError) return sendScim(res, error.status, scimErrorBody(error.status, error.scimType, error.detail));
    if (error instanceof AccessTokenError) {
      const description = error.description.replace(/"/g, "'");
      return sendScim(res, error.status, scimErrorBody(error.status, undefined, error.description), {
        'www-authenticate': `Bearer error="${error.oauthError}", error_description="${description}"`,
      });
    }
    if (error instanceof HttpException) {
      const status = error.getStatus();
      return sendScim(res, status, scimErrorBody(status, undefined, status === 404 ? 'not found' : error.message));
    }
    process.stderr.write(
      `${JSON.stringify({ level: 'error', msg: 'SCIM request failed', error: error instanceof Error ? error.message : String(error), stack: error instanceof Error ? error.stack : undefined })}\n`,
    );
    sendScim(res, 500, scimErrorBody(500, undefined, 'internal error'));
  }
}
