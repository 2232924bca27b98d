import { ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { AccessTokenError } from './access-token.verifier.js';

/** RFC 6750 errors for Herald's own JSON APIs: status, WWW-Authenticate, JSON body. */
@Catch(AccessTokenError)
export class AccessTokenErrorFilter implements ExceptionFilter {
  catch(error: AccessTokenError, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    res
      .status(error.status)
      .set('www-authenticate', `Bearer error="${error.oauthError}", error_description="${error.description.replace(/"/g, "'")}"`)
      .json({ error: error.oauthError, error_description: error.description });
  }
}
