/**
 * One outbound GET for data named by a credential (a status list URI is chosen by the issuer and
 * carried by the wallet): no redirects, a deadline for the whole exchange, a byte cap, and — unless
 * configured otherwise — https only and no connection to loopback, private or link-local
 * addresses (checked on the address actually resolved, so DNS tricks do not get around it).
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP } from 'node:net';

export interface GuardedGetOptions {
  timeoutMs: number;
  maxBytes: number;
  accept: string;
  allowHttp: boolean;
  allowPrivateNetwork: boolean;
}

export interface GuardedGetResult {
  status: number;
  contentType: string;
  body: Buffer;
}

/** Why the fetch did not produce a usable answer (for the check detail, never shown to users). */
export class GuardedGetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GuardedGetError';
  }
}

const NON_PUBLIC = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const) {
  NON_PUBLIC.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 127],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  NON_PUBLIC.addSubnet(net, prefix, 'ipv6');
}

export function isNonPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return NON_PUBLIC.check(address, 'ipv4');
  if (family === 6) {
    // IPv4-mapped addresses, dotted (::ffff:127.0.0.1) or hex (::ffff:7f00:1), are judged as IPv4.
    const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (dotted) return NON_PUBLIC.check(dotted[1]!, 'ipv4');
    const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
    if (hex) {
      const [high, low] = [parseInt(hex[1]!, 16), parseInt(hex[2]!, 16)];
      return NON_PUBLIC.check(`${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`, 'ipv4');
    }
    return NON_PUBLIC.check(address, 'ipv6');
  }
  return true;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** dns.lookup that refuses non-public answers. */
function publicOnlyLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const list = addresses as LookupAddress[];
    const blocked = list.find((entry) => isNonPublicAddress(entry.address));
    if (blocked || list.length === 0) {
      const refused = Object.assign(new Error(`${hostname} resolves to a non-public address`), { code: 'EADDRNOTPUBLIC' });
      return callback(refused, []);
    }
    if (options.all) return callback(null, list);
    callback(null, list[0]!.address, list[0]!.family);
  });
}

export async function guardedGet(url: URL, options: GuardedGetOptions): Promise<GuardedGetResult> {
  if (url.protocol !== 'https:' && !(options.allowHttp && url.protocol === 'http:')) throw new GuardedGetError(`scheme ${url.protocol} not allowed`);
  if (url.username || url.password) throw new GuardedGetError('credentials in URL not allowed');
  const literal = url.hostname.replace(/^\[|\]$/g, '');
  if (!options.allowPrivateNetwork && isIP(literal) && isNonPublicAddress(literal)) throw new GuardedGetError('non-public address not allowed');

  const signal = AbortSignal.timeout(options.timeoutMs);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<GuardedGetResult>((resolve, reject) => {
    const fail = (message: string) => reject(new GuardedGetError(message));
    const req = send(
      url,
      {
        method: 'GET',
        headers: { accept: options.accept, 'accept-encoding': 'identity' },
        signal,
        ...(options.allowPrivateNetwork ? {} : { lookup: publicOnlyLookup as any }),
      },
      (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400) {
          res.destroy();
          return fail(`redirect (${status}) refused`);
        }
        const declared = Number(res.headers['content-length'] ?? 0);
        if (declared > options.maxBytes) {
          res.destroy();
          return fail(`response too large (${declared} bytes declared)`);
        }
        const chunks: Buffer[] = [];
        let total = 0;
        res.on('data', (chunk: Buffer) => {
          total += chunk.length;
          if (total > options.maxBytes) {
            res.destroy();
            fail(`response too large (over ${options.maxBytes} bytes)`);
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => resolve({ status, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks) }));
        res.on('error', (error) => fail(signal.aborted ? 'timeout' : error.message));
      },
    );
    req.on('error', (error) => fail(signal.aborted ? 'timeout' : error.message));
    req.end();
  });
}
