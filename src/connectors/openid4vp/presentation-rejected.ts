/**
 * A named verification failure. `check` is a stable machine name (audit `reason`, logs, tests);
 * `oauthError` is what the wallet receives in the OpenID4VP error format. The detail stays on
 * the server.
 */
export type WalletOAuthError = 'invalid_request' | 'access_denied' | 'server_error';

export class PresentationRejected extends Error {
  constructor(
    readonly check: string,
    readonly detail: string,
    readonly oauthError: WalletOAuthError = 'invalid_request',
    options?: { cause?: unknown },
  ) {
    super(`${check}: ${detail}`, options);
    this.name = 'PresentationRejected';
  }
}

export function reject(check: string, detail: string, oauthError?: WalletOAuthError, cause?: unknown): never {
  throw new PresentationRejected(check, detail, oauthError, cause === undefined ? undefined : { cause });
}
