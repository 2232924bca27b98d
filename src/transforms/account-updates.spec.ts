import { AccountUpdatePolicy } from './account-updates.js';

describe('account updates policy', () => {
  const policy = new AccountUpdatePolicy(['homeDesk', 'locations', 'level', 'badge', 'tier'], {
    homeDesk: 'string',
    locations: 'string[]',
    level: 'integer',
    badge: { type: 'string', mutability: 'immutable', required: false, caseExact: false, returned: 'default' },
    tier: { type: 'string', canonicalValues: ['gold', 'silver'], mutability: 'readWrite', required: false, caseExact: false, returned: 'default' },
  });

  test('accepts declared, allowed attributes with values of their type; null removes', () => {
    expect(policy.check({ homeDesk: 'eu', locations: ['NY', 'LON'], level: 3, tier: 'gold', badge: null })).toBeUndefined();
  });

  test.each([
    [{ userName: 'root' }, /"userName" is maintained by Herald or SCIM/],
    [{ Emails: [] }, /"Emails" is maintained by Herald or SCIM/],
    [{ links: [] }, /"links" is maintained by Herald or SCIM/],
    [{ costCenter: 'x' }, /may not update "costCenter"/],
    [{ level: 2.5 }, /level: expected integer/],
    [{ locations: 'NY' }, /locations: expected a list of string/],
    [{ locations: ['NY', 3] }, /expected a list of string/],
    [{ tier: 'platinum' }, /"platinum" is not one of its canonical values/],
  ])('refuses %j', (updates, message) => {
    expect(policy.check(updates)).toMatch(message);
  });

  test('configuration may only allow declared, non-reserved attributes', () => {
    expect(new AccountUpdatePolicy(['homeDesk', 'email', 'undeclared'], { homeDesk: 'string' }).configProblems()).toEqual([
      'transforms.accountUpdates.allow[1]: "email" is maintained by Herald or SCIM and cannot be updated by transforms',
      'transforms.accountUpdates.allow[2]: "undeclared" is not declared in scim.extension.attributes',
    ]);
    expect(policy.isImmutable('badge')).toBe(true);
  });
});
