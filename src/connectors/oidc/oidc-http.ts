/**
 * The HTTP client a connector uses to talk to its IdP: a connect timeout (TCP + TLS handshake)
 * that fetch alone does not offer, a total timeout per request that covers the body too, no
 * redirects, and a cap on response size so a broken IdP cannot make Herald buffer megabytes.
 * openid-client and jose both take it as their `customFetch`.
 */
import { Agent, fetch as undiciFetch } from 'undici';

/** Larger than any discovery document, JWKS, token or userinfo response. */
const MAX_RESPONSE_BYTES = 512 * 1024;

export type UpstreamFailure = 'connect_timeout' | 'timeout' | 'unreachable' | 'response_too_large';

/** A network-level failure talking to the IdP, with a stable code for audit reasons. */
export class UpstreamHttpError extends Error {
  constructor(
    readonly failure: UpstreamFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UpstreamHttpError';
  }
}

export interface UpstreamFetchOptions {
  body?: unknown;
  headers?: Record<string, string> | Headers;
  method?: string;
  signal?: AbortSignal | null;
  redirect?: 'manual';
}

export type UpstreamFetch = (url: string, options: UpstreamFetchOptions) => Promise<Response>;

export interface UpstreamHttp {
  fetch: UpstreamFetch;
  close(): Promise<void>;
}

export function createUpstreamHttp(timeouts: { connectMs: number; totalMs: number }): UpstreamHttp {
  const agent = new Agent({
    connect: { timeout: timeouts.connectMs },
    headersTimeout: timeouts.totalMs,
    bodyTimeout: timeouts.totalMs,
    keepAliveTimeout: 10_000,
  });

  const upstreamFetch: UpstreamFetch = async (url, options) => {
    const deadline = AbortSignal.timeout(timeouts.totalMs);
    const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
    try {
      const response = await undiciFetch(url, {
        method: options.method ?? 'GET',
        headers: options.headers as Record<string, string> | undefined,
        body: options.body as string | undefined,
        redirect: 'manual',
        signal,
        dispatcher: agent,
      });
      const declared = Number(response.headers.get('content-length') ?? '0');
      if (declared > MAX_RESPONSE_BYTES) {
        await response.body?.cancel();
        throw new UpstreamHttpError('response_too_large', `response of ${declared} bytes from ${new URL(url).origin}`);
      }
      const body = await readLimited(response.body as AsyncIterable<Uint8Array> | null, MAX_RESPONSE_BYTES, url);
      // A plain Response over the buffered (already decoded) body: what openid-client and jose expect.
      const headers = new Headers();
      for (const [name, value] of response.headers) if (name !== 'content-encoding' && name !== 'content-length') headers.append(name, value);
      return new Response(response.status === 204 || response.status === 304 ? null : body, {
        status: response.status,
        statusText: response.statusText,
        headers,
      });
    } catch (error) {
      throw classify(error, url, deadline);
    }
  };

  return { fetch: upstreamFetch, close: () => agent.close() };
}

async function readLimited(body: AsyncIterable<Uint8Array> | null, limit: number, url: string): Promise<ArrayBuffer> {
  if (!body) return new ArrayBuffer(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > limit) throw new UpstreamHttpError('response_too_large', `response larger than ${limit} bytes from ${new URL(url).origin}`);
    chunks.push(chunk);
  }
  const all = Buffer.concat(chunks);
  return all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
}

function classify(error: unknown, url: string, deadline: AbortSignal): unknown {
  if (error instanceof UpstreamHttpError) return error;
  const origin = new URL(url).origin;
  const codes = errorCodes(error);
  if (codes.includes('UND_ERR_CONNECT_TIMEOUT')) return new UpstreamHttpError('connect_timeout', `no connection to ${origin} in time`, { cause: error });
  if (deadline.aborted || codes.includes('UND_ERR_HEADERS_TIMEOUT') || codes.includes('UND_ERR_BODY_TIMEOUT') || codes.includes('TimeoutError'))
    return new UpstreamHttpError('timeout', `no complete answer from ${origin} in time`, { cause: error });
  // The caller's own signal (openid-client's timeout) aborted: report it as a timeout too.
  if (codes.includes('AbortError')) return new UpstreamHttpError('timeout', `request to ${origin} aborted`, { cause: error });
  return new UpstreamHttpError('unreachable', `${origin} is not reachable (${codes.filter((c) => c !== 'TypeError').join(', ') || 'network error'})`, { cause: error });
}

/** Error codes and names along the cause chain (undici wraps socket errors in `fetch failed`). */
function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current && typeof current === 'object' && depth < 5; depth++) {
    const { code, name } = current as { code?: unknown; name?: unknown };
    if (typeof code === 'string') codes.push(code);
    if (typeof name === 'string') codes.push(name);
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}
