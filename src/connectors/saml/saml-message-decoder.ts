/**
 * Turns the transport encodings of SAML messages back into XML text, with hard caps first:
 * HTTP-POST is strict base64 of UTF-8 XML (never inflated: the POST binding does not deflate, so
 * a deflated body is simply malformed); HTTP-Redirect is base64 of raw DEFLATE, inflated with
 * zlib's `maxOutputLength` so a deflate bomb stops at the cap instead of allocating 50 MB.
 */
import { inflateRawSync } from 'node:zlib';
import { reject } from './saml-rejection.js';

export interface MessageLimits {
  /** Largest decoded XML of a POST-binding message, in bytes. */
  maxMessageBytes: number;
  /** Largest inflated XML of a Redirect-binding message, in bytes. */
  maxInflatedBytes: number;
  /** Largest raw query string of a Redirect-binding message, in characters. */
  maxQueryChars: number;
}

const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}[\r\n]*$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return reject('malformed_message', 'the SAML message is not UTF-8');
  }
}

/** HTTP-POST binding: `value` is the form field as parsed (a repeated field arrives as an array). */
export function decodePostMessage(value: unknown, limits: MessageLimits): string {
  if (typeof value !== 'string' || !value) reject('malformed_message', 'the SAML message must be exactly one non-empty form field');
  // base64 is 4/3 of the bytes, plus line breaks some IdPs insert.
  const maxChars = Math.ceil(limits.maxMessageBytes * 1.4) + 4;
  if (value.length > maxChars) reject('message_too_large', `the SAML message has ${value.length} base64 characters, more than ${maxChars}`);
  if (!BASE64.test(value)) reject('malformed_message', 'the SAML message is not base64');
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length > limits.maxMessageBytes) reject('message_too_large', `the SAML message has ${bytes.length} bytes, more than ${limits.maxMessageBytes}`);
  return decodeUtf8(bytes);
}

export interface RedirectMessage {
  kind: 'SAMLRequest' | 'SAMLResponse';
  xml: string;
  /** Every parameter once (duplicates are refused). */
  params: Record<string, string>;
}

/**
 * HTTP-Redirect binding. `rawQuery` is the query string exactly as received, without `?`:
 * node-saml rebuilds the signed octets from it, so it must not be re-encoded.
 */
export function decodeRedirectMessage(rawQuery: string, limits: MessageLimits): RedirectMessage {
  if (rawQuery.length > limits.maxQueryChars) reject('message_too_large', `query of ${rawQuery.length} characters, more than ${limits.maxQueryChars}`);
  const search = new URLSearchParams(rawQuery);
  const params: Record<string, string> = {};
  for (const [key, value] of search) {
    if (Object.hasOwn(params, key)) reject('malformed_message', `duplicate query parameter ${key.slice(0, 40)}`);
    params[key] = value;
  }
  const hasRequest = Object.hasOwn(params, 'SAMLRequest');
  const hasResponse = Object.hasOwn(params, 'SAMLResponse');
  if (hasRequest === hasResponse) reject('malformed_message', 'expected exactly one of SAMLRequest and SAMLResponse');
  const kind = hasRequest ? 'SAMLRequest' : 'SAMLResponse';
  const b64 = params[kind]!;
  if (!BASE64.test(b64)) reject('malformed_message', `${kind} is not base64`);
  let inflated: Buffer;
  try {
    inflated = inflateRawSync(Buffer.from(b64, 'base64'), { maxOutputLength: limits.maxInflatedBytes });
  } catch (error) {
    const tooLarge = (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
    return reject(
      tooLarge ? 'message_too_large' : 'malformed_message',
      tooLarge ? `${kind} inflates to more than ${limits.maxInflatedBytes} bytes` : `${kind} is not raw DEFLATE data`,
      error,
    );
  }
  return { kind, xml: decodeUtf8(inflated), params };
}
