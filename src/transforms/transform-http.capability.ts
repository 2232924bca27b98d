/**
 * Host side of `ctx.http.getJson`. It runs on Node's main thread; the sandbox thread waits on it
 * through Reference#applySyncPromise (the isolate blocks, Node does not, the CPU timer pauses).
 * It always resolves to an envelope string (`{"ok":true,"body":…}` | `{"ok":false,"error":"…"}`)
 * and never rejects, so no host Error — with host stack and paths — is ever copied into the isolate.
 */

/** Per-run state the host knows about a call: its deadline and abort signal. */
export interface RunState {
  deadline: number;
  httpCalls: number;
  signal: AbortSignal;
}

export interface HttpCapability {
  getJson(run: RunState | null, url: unknown, optionsJson: unknown): Promise<string>;
}

export interface HttpCapabilityConfig {
  allowedOrigins: string[];
  timeoutMs: number;
  maxResponseBytes: number;
  /** TTL used when a call does not ask for one (0: no cache). */
  cacheTtlSeconds: number;
  maxCacheTtlSeconds: number;
  maxCallsPerRun?: number;
  maxCacheEntries?: number;
}

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$/;
const BLOCKED_HEADERS = new Set([
  'host',
  'cookie',
  'connection',
  'content-length',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'proxy-authorization',
  'keep-alive',
  'expect',
]);
const JSON_CONTENT_TYPE = /^application\/([a-z0-9.+-]*\+)?json\b/i;

function failure(message: string): string {
  return JSON.stringify({ ok: false, error: message });
}

interface CallOptions {
  headers: Record<string, string>;
  ttl: number;
}

/** Checks common to the real and the fixture capability; returns a failure envelope or the parsed call. */
function parseCall(run: RunState | null, url: unknown, optionsJson: unknown, maxCalls: number, maxTtl: number, defaultTtl: number): string | { url: URL; options: CallOptions } {
  if (!run) return failure('http.getJson is only available while run() is executing');
  if (typeof url !== 'string' || url.length > 2048) return failure('url must be a string of at most 2048 characters');
  if (++run.httpCalls > maxCalls) return failure(`more than ${maxCalls} requests in one run`);
  const parsed = URL.parse(url);
  if (!parsed) return failure('invalid URL');
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return failure('only http(s) URLs');
  if (parsed.username || parsed.password) return failure('credentials in the URL are not allowed');
  let raw: { headers?: Record<string, unknown>; cacheTtlSeconds?: unknown } = {};
  try {
    raw = typeof optionsJson === 'string' ? JSON.parse(optionsJson) : {};
  } catch {
    return failure('bad options');
  }
  const headers: Record<string, string> = { accept: 'application/json' };
  for (const [name, value] of Object.entries(raw.headers ?? {})) {
    if (!HEADER_NAME.test(name) || BLOCKED_HEADERS.has(name.toLowerCase())) return failure(`header "${name}" is not allowed`);
    if (typeof value !== 'string' || value.length > 4096 || /[\r\n\0]/.test(value)) return failure(`header "${name}" has an invalid value`);
    headers[name.toLowerCase()] = value;
  }
  const asked = raw.cacheTtlSeconds === undefined ? defaultTtl : Number(raw.cacheTtlSeconds) || 0;
  const ttl = Math.max(0, Math.min(asked, maxTtl));
  return { url: parsed, options: { headers, ttl } };
}

export class FetchHttpCapability implements HttpCapability {
  private readonly allow: Set<string>;
  private readonly maxCalls: number;
  private readonly maxEntries: number;
  private readonly cache = new Map<string, { expires: number; text: string }>();
  private readonly inflight = new Map<string, Promise<{ text?: string; error?: string }>>();

  constructor(private readonly config: HttpCapabilityConfig) {
    this.allow = new Set(config.allowedOrigins.map((o) => new URL(o).origin));
    this.maxCalls = config.maxCallsPerRun ?? 5;
    this.maxEntries = config.maxCacheEntries ?? 500;
  }

  /** Cache statistics for metrics and tests. */
  readonly stats = { requests: 0, cacheHits: 0 };

  async getJson(run: RunState | null, url: unknown, optionsJson: unknown): Promise<string> {
    try {
      const call = parseCall(run, url, optionsJson, this.maxCalls, this.config.maxCacheTtlSeconds, this.config.cacheTtlSeconds);
      if (typeof call === 'string') return call;
      if (!this.allow.has(call.url.origin)) return failure(`origin ${call.url.origin} is not allow-listed for this transform`);
      const { headers, ttl } = call.options;
      const key = `${call.url.href}\n${JSON.stringify(headers)}`;
      if (ttl > 0) {
        const hit = this.cache.get(key);
        if (hit && hit.expires > Date.now()) {
          this.stats.cacheHits++;
          return `{"ok":true,"body":${hit.text}}`;
        }
      }
      const remaining = run!.deadline - Date.now();
      if (remaining <= 0) return failure('the wall-time budget of the run is spent');
      // Identical concurrent requests that may be cached share one fetch.
      let pending = ttl > 0 ? this.inflight.get(key) : undefined;
      if (!pending) {
        pending = this.fetch(call.url, headers, Math.min(remaining, this.config.timeoutMs), run!.signal);
        if (ttl > 0) {
          this.inflight.set(key, pending);
          void pending.finally(() => this.inflight.delete(key));
        }
      }
      const result = await pending;
      if (result.error !== undefined) return failure(result.error);
      if (ttl > 0) {
        if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
        this.cache.set(key, { expires: Date.now() + ttl * 1000, text: result.text! });
      }
      return `{"ok":true,"body":${result.text}}`;
    } catch {
      return failure('request failed');
    }
  }

  private async fetch(url: URL, headers: Record<string, string>, timeoutMs: number, runSignal: AbortSignal): Promise<{ text?: string; error?: string }> {
    this.stats.requests++;
    const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), runSignal]);
    let response: Response;
    try {
      response = await fetch(url, { method: 'GET', headers, redirect: 'manual', signal });
    } catch {
      return { error: signal.aborted ? `timed out after ${timeoutMs} ms` : 'connection failed' };
    }
    try {
      if (response.status >= 300 && response.status < 400) return { error: `redirect (${response.status}) refused` };
      if (response.status < 200 || response.status >= 300) return { error: `HTTP ${response.status}` };
      const contentType = response.headers.get('content-type') ?? '';
      if (!JSON_CONTENT_TYPE.test(contentType)) return { error: `content-type ${contentType || '(none)'} is not JSON` };
      const declared = Number(response.headers.get('content-length') ?? 0);
      const max = this.config.maxResponseBytes;
      if (declared > max) return { error: `body of ${declared} bytes exceeds ${max}` };
      const chunks: Uint8Array[] = [];
      let size = 0;
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        size += chunk.byteLength;
        if (size > max) return { error: `body exceeds ${max} bytes` };
        chunks.push(chunk);
      }
      let value: unknown;
      try {
        value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return { error: 'response is not valid JSON' };
      }
      return { text: JSON.stringify(value) };
    } catch {
      return { error: signal.aborted ? `timed out after ${timeoutMs} ms` : 'reading the response failed' };
    } finally {
      if (!response.bodyUsed) response.body?.cancel().catch(() => undefined);
    }
  }
}

/** Canned answers by exact URL for fixtures and `herald transforms run`: a body, or `{ status }` for an error. */
export class FixtureHttpCapability implements HttpCapability {
  constructor(private readonly responses: Record<string, unknown>) {}

  async getJson(run: RunState | null, url: unknown, optionsJson: unknown): Promise<string> {
    const call = parseCall(run, url, optionsJson, 5, 0, 0);
    if (typeof call === 'string') return call;
    const key = String(url);
    if (!Object.hasOwn(this.responses, key)) return failure(`no fixture response for ${key}`);
    const answer = this.responses[key];
    if (answer !== null && typeof answer === 'object' && !Array.isArray(answer) && Object.keys(answer).length === 1 && typeof (answer as { status?: unknown }).status === 'number') {
      const status = (answer as { status: number }).status;
      if (status < 200 || status >= 300) return failure(`HTTP ${status}`);
    }
    return JSON.stringify({ ok: true, body: answer });
  }
}
