/**
 * One HTTP claim provider: builds the request URL from the template, authenticates (static
 * header secret, or an OAuth client-credentials token that is cached until shortly before it
 * expires), enforces the timeout and size limit, and maps the JSON answer to claim values.
 * Every failure is a ClaimProviderCallError with a stable `reason` for the audit trail.
 */
import { URL_PLACEHOLDER, type ClaimProviderConfig } from './claim-provider.config.js';

export type ProviderFailureReason = 'timeout' | 'unreachable' | 'http_error' | 'invalid_response' | 'too_large' | 'token_failed' | 'unauthorized';

export class ClaimProviderCallError extends Error {
  constructor(
    readonly reason: ProviderFailureReason,
    detail: string,
  ) {
    super(detail);
    this.name = 'ClaimProviderCallError';
  }
}

export interface TemplateValues {
  sub?: string;
  clientId: string;
  /** Account attribute lookup for {account.<path>}. */
  account: (path: string) => unknown;
}

/** The URL for this token, or undefined when a placeholder has no value (the provider is skipped). */
export function renderUrl(template: string, values: TemplateValues): string | undefined {
  let missing = false;
  const url = template.replace(URL_PLACEHOLDER, (_m, name: string) => {
    let value: unknown;
    if (name === 'sub') value = values.sub;
    else if (name === 'client_id') value = values.clientId;
    else value = values.account(name.slice('account.'.length));
    if (Array.isArray(value)) value = value[0];
    if (value === undefined || value === null || (typeof value === 'object' && value !== null)) {
      missing = true;
      return '';
    }
    return encodeURIComponent(String(value));
  });
  return missing ? undefined : url;
}

/** RFC 6901 JSON Pointer ("/a/b") or a dotted path ("a.b"); "" is the whole document. */
export function pick(document: unknown, path: string): unknown {
  const parts = path === '' ? [] : path.startsWith('/') ? path.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~')) : path.split('.');
  let current = document;
  for (const part of parts) {
    if (current === null || typeof current !== 'object') return undefined;
    if (Array.isArray(current)) {
      if (!/^\d+$/.test(part)) return undefined;
      current = current[Number(part)];
    } else {
      if (!Object.hasOwn(current, part)) return undefined;
      current = (current as Record<string, unknown>)[part];
    }
  }
  return current;
}

export type Fetch = typeof fetch;

export class ClaimProviderClient {
  private token: { value: string; expiresAt: number } | undefined;

  constructor(
    readonly config: ClaimProviderConfig,
    private readonly fetchImpl: Fetch = fetch,
  ) {}

  /** Calls the API; `undefined` values mean "no values for this user" (404). */
  async call(url: string): Promise<Record<string, unknown>> {
    let response = await this.request(url, await this.authHeaders(false));
    if (response.status === 401 && this.config.auth.type === 'client_credentials') {
      // The cached token may have been revoked or rotated: one retry with a fresh token.
      await response.body?.cancel();
      response = await this.request(url, await this.authHeaders(true));
    }
    if (response.status === 404) {
      await response.body?.cancel();
      return {};
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw new ClaimProviderCallError('unauthorized', `the API refused Herald's credentials (HTTP ${response.status})`);
    }
    if (response.status < 200 || response.status >= 300) {
      await response.body?.cancel();
      throw new ClaimProviderCallError('http_error', `HTTP ${response.status}`);
    }
    const body = await this.readJson(response);
    return this.map(body);
  }

  private map(body: unknown): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (this.config.claims) {
      for (const [key, path] of Object.entries(this.config.claims)) {
        const value = pick(body, path);
        if (value !== undefined && value !== null) out[key] = value;
      }
      return out;
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new ClaimProviderCallError('invalid_response', 'expected a JSON object');
    for (const [key, value] of Object.entries(body)) if (value !== undefined && value !== null) out[key] = value;
    return out;
  }

  private async request(url: string, headers: Record<string, string>): Promise<Response> {
    try {
      return await this.fetchImpl(url, { headers: { accept: 'application/json', ...headers }, redirect: 'error', signal: AbortSignal.timeout(this.config.timeoutMs) });
    } catch (error) {
      throw this.networkError(error);
    }
  }

  private networkError(error: unknown): ClaimProviderCallError {
    const name = (error as { name?: string })?.name;
    if (name === 'TimeoutError' || name === 'AbortError') return new ClaimProviderCallError('timeout', `no answer within ${this.config.timeoutMs} ms`);
    const cause = (error as { cause?: { code?: string } })?.cause?.code;
    return new ClaimProviderCallError('unreachable', cause ?? (error instanceof Error ? error.message : String(error)));
  }

  private async readJson(response: Response): Promise<unknown> {
    const limit = this.config.maxResponseBytes;
    const declared = Number(response.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > limit) {
      await response.body?.cancel();
      throw new ClaimProviderCallError('too_large', `response of ${declared} bytes exceeds ${limit}`);
    }
    let text: string;
    try {
      const buffer = await response.arrayBuffer();
      if (buffer.byteLength > limit) throw new ClaimProviderCallError('too_large', `response exceeds ${limit} bytes`);
      text = new TextDecoder().decode(buffer);
    } catch (error) {
      if (error instanceof ClaimProviderCallError) throw error;
      throw this.networkError(error);
    }
    try {
      return JSON.parse(text);
    } catch {
      throw new ClaimProviderCallError('invalid_response', 'the response is not JSON');
    }
  }

  private async authHeaders(refresh: boolean): Promise<Record<string, string>> {
    const auth = this.config.auth;
    if (auth.type === 'none') return {};
    if (auth.type === 'header') return { [auth.name]: auth.value };
    if (refresh || !this.token || this.token.expiresAt <= Date.now()) this.token = await this.fetchToken();
    return { authorization: `Bearer ${this.token.value}` };
  }

  private async fetchToken(): Promise<{ value: string; expiresAt: number }> {
    const auth = this.config.auth;
    if (auth.type !== 'client_credentials') throw new Error('not a client-credentials provider');
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (auth.scope) form.set('scope', auth.scope);
    if (auth.resource) form.set('resource', auth.resource);
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (auth.method === 'client_secret_post') {
      form.set('client_id', auth.clientId);
      form.set('client_secret', auth.clientSecret);
    } else {
      // RFC 6749 §2.3.1: form-encode both parts before Basic encoding.
      const user = encodeURIComponent(auth.clientId).replace(/%20/g, '+');
      const pass = encodeURIComponent(auth.clientSecret).replace(/%20/g, '+');
      headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    }
    let response: Response;
    try {
      response = await this.fetchImpl(auth.tokenUrl, { method: 'POST', headers, body: form, redirect: 'error', signal: AbortSignal.timeout(this.config.timeoutMs) });
    } catch (error) {
      const failure = this.networkError(error);
      throw new ClaimProviderCallError('token_failed', `token endpoint: ${failure.reason}: ${failure.message}`);
    }
    let body: Record<string, unknown> = {};
    try {
      body = (await response.json()) as Record<string, unknown>;
    } catch {
      // handled below
    }
    if (!response.ok || typeof body.access_token !== 'string') {
      throw new ClaimProviderCallError('token_failed', `token endpoint answered HTTP ${response.status}${typeof body.error === 'string' ? ` ${body.error}` : ''}`);
    }
    const lifetime = typeof body.expires_in === 'number' ? body.expires_in : 300;
    // Renew a little early so that a token never expires on its way to the API.
    return { value: body.access_token, expiresAt: Date.now() + Math.max(0, lifetime - 30) * 1000 };
  }
}
