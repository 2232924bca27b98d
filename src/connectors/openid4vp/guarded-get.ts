/**
 * One outbound GET for data named by a credential (a status list URI is chosen by the issuer and
 * carried by the wallet): no redirects, a deadline for the whole exchange, a byte cap, and — unless
 * configured otherwise — https only and no connection to loopback, private or link-local
 * addresses (checked on the address actually resolved, so DNS tricks do not get around it; an IPv6
 * address that carries an IPv4 one — mapped, NAT64, 6to4 — is judged by the IPv4 address).
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
  ['::', 96], // unspecified, loopback and the deprecated IPv4-compatible ::a.b.c.d
  ['64:ff9b:1::', 48], // local-use NAT64 (RFC 8215)
  ['100::', 64], // discard-only
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  NON_PUBLIC.addSubnet(net, prefix, 'ipv6');
}

/** The eight 16-bit groups of an IPv6 address that `isIP` accepted (zone id ignored). */
function ipv6Groups(address: string): number[] {
  let text = address.replace(/%.*$/, '');
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const words = (part: string) => (part ? part.split(':').map((group) => parseInt(group, 16)) : []);
  const gap = text.indexOf('::');
  if (gap === -1) return words(text);
  const head = words(text.slice(0, gap));
  const tail = words(text.slice(gap + 2));
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/**
 * The IPv4 address an IPv6 address stands for, when the network hands it on to IPv4: IPv4-mapped
 * (::ffff:0:0/96), IPv4-translated (::ffff:0:0:0/96), NAT64 (64:ff9b::/96) and 6to4 (2002::/16).
 */
function embeddedIpv4(g: number[]): string | undefined {
  const v4 = (high: number, low: number) => `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  const zero = (from: number, to: number) => g.slice(from, to).every((word) => word === 0);
  if (zero(0, 5) && g[5] === 0xffff) return v4(g[6]!, g[7]!);
  if (zero(0, 4) && g[4] === 0xffff && g[5] === 0) return v4(g[6]!, g[7]!);
  if (g[0] === 0x64 && g[1] === 0xff9b && zero(2, 6)) return v4(g[6]!, g[7]!);
  if (g[0] === 0x2002) return v4(g[1]!, g[2]!);
  return undefined;
}

export function isNonPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return NON_PUBLIC.check(address, 'ipv4');
  if (family === 6) {
    const groups = ipv6Groups(address);
    if (groups.length !== 8 || groups.some((word) => !Number.isInteger(word) || word < 0 || word > 0xffff)) return true;
    const ipv4 = embeddedIpv4(groups);
    if (ipv4 !== undefined) return NON_PUBLIC.check(ipv4, 'ipv4');
    return NON_PUBLIC.check(address.replace(/%.*$/, ''), 'ipv6');
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
