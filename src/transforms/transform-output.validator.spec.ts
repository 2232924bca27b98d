import { RESERVED_CLAIMS as HERALD_RESERVED } from '../claims/reserved-claims.js';
import { RESERVED_CLAIMS as SDK_RESERVED } from './sdk/index.js';
import { OutputError, validateOutput } from './transform-output.validator.js';
import { DEFAULT_SANDBOX_LIMITS } from './sandbox/sandbox-types.js';

const validate = (value: unknown, secrets: string[] = []) => validateOutput(typeof value === 'string' ? value : JSON.stringify(value), DEFAULT_SANDBOX_LIMITS, secrets);

describe('transform output validation (host side)', () => {
  test('the reserved list covers what RFC 9068 / OIDC make Herald\'s own', () => {
    for (const claim of ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'cnf', 'client_id', 'scope', 'auth_time', 'nonce', 'acr', 'amr', 'sid']) {
      expect(SDK_RESERVED).toContain(claim);
      expect(HERALD_RESERVED.has(claim)).toBe(true);
    }
  });

  test('accepts claims, account updates and a risk signal', () => {
    expect(validate({ claims: { roles: ['a'], 'https://x.example/tenant': 'acme' }, accountUpdates: { homeDesk: 'eu' }, risk: { score: 10, reasons: ['ok'] } })).toEqual({
      kind: 'result',
      claims: { roles: ['a'], 'https://x.example/tenant': 'acme' },
      accountUpdates: { homeDesk: 'eu' },
      risk: { score: 10, reasons: ['ok'] },
    });
    expect(validate({ deny: 'no' })).toEqual({ kind: 'deny', reason: 'no' });
  });

  test.each([...HERALD_RESERVED])('refuses the reserved claim %s', (claim) => {
    expect(() => validate({ claims: { [claim]: 'x' } })).toThrow(new OutputError(`result.claims.${claim}: "${claim}" is a reserved claim that Herald sets itself`));
  });

  test.each([
    ['__proto__ key', '{"claims":{"a":{"__proto__":{"admin":true}}}}', /forbidden key "__proto__"/],
    ['constructor key', { claims: { constructor: { prototype: 1 } } }, /forbidden key "constructor"/],
    ['a deny with more fields', { deny: 'x', claims: {} }, /exactly \{ deny: reason \}/],
    ['an empty deny reason', { deny: '' }, /1\.\.500 characters/],
    ['an unknown field', { claims: {}, extra: 1 }, /result\.extra: unknown field/],
    ['no claims', { risk: { score: 1 } }, /result\.claims is required/],
    ['claims as a list', { claims: [] }, /result\.claims must be an object/],
    ['a risk score over 100', { claims: {}, risk: { score: 101 } }, /score must be a number from 0 to 100/],
    ['a name with spaces', { claims: { 'my claim': 1 } }, /invalid name/],
    ['nesting beyond 8 levels', { claims: { a: [[[[[[[[1]]]]]]]] } }, /nested deeper than 8/],
    ['a string over 8192 characters', { claims: { a: 'x'.repeat(8193) } }, /string longer than 8192/],
    ['more than 256 items', { claims: { a: new Array(257).fill(1) } }, /array longer than 256/],
    ['a body over 16 KiB', { claims: { a: 'x'.repeat(8000), b: 'y'.repeat(8000), c: 'z'.repeat(1000) } }, /bytes, limit 16384/],
    ['not JSON', '{claims:', /not JSON/],
  ])('refuses %s', (_label, value, message) => {
    expect(() => validate(value)).toThrow(message);
  });

  test('refuses output that contains a granted secret, even inside a longer string', () => {
    expect(() => validate({ claims: { a: 'Bearer s3cr3t-value-123' } }, ['s3cr3t-value-123'])).toThrow('result contains the value of a secret');
    expect(validate({ claims: { a: 'short' } }, ['short'])).toMatchObject({ kind: 'result' }); // too short to be a meaningful secret match
  });

  test('masks a granted secret in a deny reason and in risk reasons', () => {
    expect(validate({ deny: 'CRM says no for s3cr3t-value-123' }, ['s3cr3t-value-123'])).toEqual({ kind: 'deny', reason: 'CRM says no for [secret]' });
    expect(validate({ deny: 's3cr3t-value-123' }, ['s3cr3t-value-123'])).toEqual({ kind: 'deny', reason: '[secret]' });
    expect(validate({ claims: {}, risk: { score: 5, reasons: ['key k3y5 reused'] } }, ['k3y5'])).toEqual({ kind: 'result', claims: {}, risk: { score: 5, reasons: ['key [secret] reused'] } });
  });
});
