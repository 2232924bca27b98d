/**
 * Keeps a connector's IdP metadata current: reads the file or downloads the URL at start-up and on
 * a schedule. A failed refresh keeps the last good document until its own validUntil, so a
 * short outage of the IdP's metadata endpoint does not stop sign-ins.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { z } from 'zod';
import type { samlIdpMetadataSchema } from './saml.config.js';
import { IdpMetadataError, parseIdpMetadata, type IdpMetadata } from './idp-metadata.parser.js';

type MetadataConfig = z.infer<typeof samlIdpMetadataSchema>;

export interface MetadataSourceOptions {
  entityId: string;
  configDir: string;
  /** Loaded PEM certificates of the metadata signer. */
  signingCertificates: string[];
  allowSha1: boolean;
  log: (level: 'info' | 'warn' | 'error', message: string, detail?: Record<string, unknown>) => void;
}

export class IdpMetadataSource {
  private current: IdpMetadata | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: MetadataConfig,
    private readonly options: MetadataSourceOptions,
  ) {}

  /** The metadata in force, or undefined when none was ever loaded or it expired. */
  get(now = Date.now()): IdpMetadata | undefined {
    if (this.current?.validUntil !== undefined && this.current.validUntil <= now) return undefined;
    return this.current;
  }

  /** Loads once; throws on failure and keeps the previous metadata (the caller decides whether that is fatal). */
  async refresh(): Promise<IdpMetadata> {
    const xml = this.config.url ? await this.download(this.config.url) : await this.readFile(this.config.file!);
    const metadata = parseIdpMetadata(xml, {
      entityId: this.options.entityId,
      signingCertificates: this.options.signingCertificates,
      requireSignature: this.config.requireSignature ?? this.options.signingCertificates.length > 0,
      allowSha1: this.options.allowSha1,
    });
    this.current = metadata;
    return metadata;
  }

  start(): void {
    this.timer = setInterval(() => {
      this.refresh().then(
        (m) => this.options.log('info', 'IdP metadata refreshed', { certificates: m.certificates.length, signed: m.signed }),
        (error) => this.options.log('warn', 'IdP metadata refresh failed; keeping the last good metadata', { error: String(error) }),
      );
    }, this.config.refreshIntervalSeconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async readFile(file: string): Promise<string> {
    const text = await readFile(resolve(this.options.configDir, file), 'utf8');
    if (Buffer.byteLength(text) > this.config.maxBytes) throw new IdpMetadataError(`metadata file larger than ${this.config.maxBytes} bytes`);
    return text;
  }

  private async download(url: string): Promise<string> {
    let response: Response;
    try {
      // No redirects: the URL was vetted by config (unsigned metadata only over https or loopback);
      // a redirect could take the download anywhere, e.g. to plain http.
      response = await fetch(url, {
        redirect: 'manual',
        signal: AbortSignal.timeout(this.config.timeoutMs),
        headers: { accept: 'application/samlmetadata+xml, application/xml, text/xml' },
      });
    } catch (error) {
      throw new IdpMetadataError(`metadata download failed: ${(error as Error).message}`, { cause: error });
    }
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel().catch(() => undefined);
      throw new IdpMetadataError(`metadata download failed: HTTP ${response.status} redirect refused (configure the final metadata URL)`);
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw new IdpMetadataError(`metadata download failed: HTTP ${response.status}`);
    }
    const declared = Number(response.headers.get('content-length') ?? 0);
    if (declared > this.config.maxBytes) throw new IdpMetadataError(`metadata larger than ${this.config.maxBytes} bytes`);
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of response.body ?? []) {
      size += chunk.length;
      if (size > this.config.maxBytes) throw new IdpMetadataError(`metadata larger than ${this.config.maxBytes} bytes`);
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  }
}
