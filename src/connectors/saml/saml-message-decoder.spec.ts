import { deflateRawSync, createDeflateRaw } from 'node:zlib';
import { decodePostMessage, decodeRedirectMessage, type MessageLimits } from './saml-message-decoder.js';
import { SamlRejection } from './saml-rejection.js';

const LIMITS: MessageLimits = { maxMessageBytes: 300_000, maxInflatedBytes: 100_000, maxQueryChars: 16_000 };

function reason(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    if (error instanceof SamlRejection) return error.reason;
    throw error;
  }
}

/** Raw DEFLATE of `head` + `bytes` spaces + `tail`, streamed so the test never holds the inflated form. */
function bomb(bytes: number): Promise<Buffer> {
  const deflate = createDeflateRaw({ level: 9 });
  const chunks: Buffer[] = [];
  deflate.on('data', (c: Buffer) => chunks.push(c));
  deflate.write('<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">');
  const block = Buffer.alloc(1024 * 1024, 0x20);
  for (let i = 0; i < bytes / block.length; i++) deflate.write(block);
  deflate.write('</samlp:LogoutResponse>');
  return new Promise((resolve) => deflate.end(() => resolve(Buffer.concat(chunks))));
}

describe('SAML message decoding', () => {
  test('POST binding: strict base64 of UTF-8 XML', () => {
    const xml = '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>';
    expect(decodePostMessage(Buffer.from(xml).toString('base64'), LIMITS)).toBe(xml);
    // IdPs that wrap base64 lines are fine.
    expect(decodePostMessage(Buffer.from(xml).toString('base64').replace(/(.{20})/g, '$1\r\n'), LIMITS)).toBe(xml);
  });

  test.each([
    ['an array (repeated form field)', ['a', 'b'], 'malformed_message'],
    ['a missing field', undefined, 'malformed_message'],
    ['not base64', '<xml/>', 'malformed_message'],
    ['base64 of bytes that are not UTF-8', Buffer.from([0xff, 0xfe, 0x00]).toString('base64'), 'malformed_message'],
    ['more base64 than the cap allows', 'A'.repeat(430_000), 'message_too_large'],
  ])('POST binding refuses %s', (_label, value, expected) => {
    expect(reason(() => decodePostMessage(value, LIMITS))).toBe(expected);
  });

  test('Redirect binding: inflates, keeps every parameter once', () => {
    const xml = '<samlp:LogoutResponse xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>';
    const query = `SAMLResponse=${encodeURIComponent(deflateRawSync(xml).toString('base64'))}&RelayState=r&SigAlg=a&Signature=s`;
    expect(decodeRedirectMessage(query, LIMITS)).toEqual({ kind: 'SAMLResponse', xml, params: { SAMLResponse: deflateRawSync(xml).toString('base64'), RelayState: 'r', SigAlg: 'a', Signature: 's' } });
    expect(reason(() => decodeRedirectMessage(`${query}&RelayState=again`, LIMITS))).toBe('malformed_message');
    expect(reason(() => decodeRedirectMessage('RelayState=only', LIMITS))).toBe('malformed_message');
    expect(reason(() => decodeRedirectMessage(`SAMLResponse=${encodeURIComponent(Buffer.from('not deflate').toString('base64'))}`, LIMITS))).toBe('malformed_message');
  });

  test('a 50 MB deflate bomb stops at the inflate cap, even with the query cap lifted', async () => {
    const deflated = await bomb(50 * 1024 * 1024);
    expect(deflated.length).toBeLessThan(60_000);
    const query = `SAMLResponse=${encodeURIComponent(deflated.toString('base64'))}`;
    // With the defaults the query alone is refused (Node's 16 KiB header limit would refuse it first).
    expect(reason(() => decodeRedirectMessage(query, LIMITS))).toBe('message_too_large');
    // Without the query cap, zlib's maxOutputLength stops inflation at 100 kB instead of allocating 50 MB.
    let error: SamlRejection | undefined;
    try {
      decodeRedirectMessage(query, { ...LIMITS, maxQueryChars: 1_000_000 });
    } catch (e) {
      error = e as SamlRejection;
    }
    expect(error?.reason).toBe('message_too_large');
    expect(error?.message).toBe('SAMLResponse inflates to more than 100000 bytes');
    expect((error?.cause as NodeJS.ErrnoException).code).toBe('ERR_BUFFER_TOO_LARGE');
  });
});
