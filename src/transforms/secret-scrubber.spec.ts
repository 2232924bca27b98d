import { scrubSecrets, scrubSecretsIn } from './secret-scrubber.js';

const SECRETS = ['crm-token-s3cr3t', 'a b"c/d+', 'abcd'];

describe('scrubSecrets', () => {
  test('masks every occurrence, as is, JSON-escaped and URL-encoded', () => {
    expect(scrubSecrets('x crm-token-s3cr3t y crm-token-s3cr3t', SECRETS)).toBe('x [secret] y [secret]');
    expect(scrubSecrets(`{"k":${JSON.stringify('a b"c/d+')}}`, SECRETS)).toBe('{"k":"[secret]"}');
    expect(scrubSecrets(`https://x.example/?key=${encodeURIComponent('a b"c/d+')}`, SECRETS)).toBe('https://x.example/?key=[secret]');
    expect(scrubSecrets(`https://x.example/${encodeURI('a b"c/d+')}`, SECRETS)).toBe('https://x.example/[secret]');
  });

  test('leftmost and longest first, without re-masking the mask', () => {
    expect(scrubSecrets('crm-token-s3cr3tabcd', SECRETS)).toBe('[secret][secret]');
    expect(scrubSecrets('secret', ['secret', 'ecre'])).toBe('[secret]');
    expect(scrubSecrets('xsecretx', ['secret', 'ecre'])).toBe('x[secret]x');
  });

  test('values under 4 characters and texts without secrets stay as they are', () => {
    expect(scrubSecrets('the abc of it', ['abc'])).toBe('the abc of it');
    expect(scrubSecrets('nothing here', SECRETS)).toBe('nothing here');
    expect(scrubSecrets('nothing here', [])).toBe('nothing here');
  });

  test('a text cut by the sandbox (…) loses the beginning of a secret before the mark', () => {
    expect(scrubSecrets('refused crm-tok…', SECRETS)).toBe('refused …');
    expect(scrubSecrets('refused abc…', SECRETS)).toBe('refused …');
    expect(scrubSecrets('abcd then crm-token-s…', SECRETS)).toBe('[secret] then …');
    expect(scrubSecrets('all fine…', SECRETS)).toBe('all fine…');
  });

  test('scrubSecretsIn masks strings and keys at any depth and keeps __proto__ as data', () => {
    const value = JSON.parse('{"sent":"Bearer crm-token-s3cr3t","crm-token-s3cr3t":[1,{"x":"abcd"}],"__proto__":{"y":"abcd"}}');
    const scrubbed = scrubSecretsIn(value, SECRETS) as Record<string, unknown>;
    expect(JSON.stringify(scrubbed)).toBe('{"sent":"Bearer [secret]","[secret]":[1,{"x":"[secret]"}],"__proto__":{"y":"[secret]"}}');
    expect(Object.getPrototypeOf(scrubbed)).toBe(Object.prototype);
  });
});
