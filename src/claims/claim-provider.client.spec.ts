import { pick, renderUrl } from './claim-provider.client.js';

describe('claim provider requests', () => {
  const account = { userId: 2998, locations: ['NY', 'LDN'], name: { givenName: 'Zoë' } } as Record<string, unknown>;
  const lookup = (path: string) => path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], account);

  test('placeholders are URL-encoded; a missing value skips the provider', () => {
    expect(renderUrl('https://api/u/{account.userId}/s?c={client_id}', { sub: 's', clientId: 'web app', account: lookup })).toBe('https://api/u/2998/s?c=web%20app');
    expect(renderUrl('https://api/{account.name.givenName}/{sub}', { sub: 'a/b', clientId: 'c', account: lookup })).toBe('https://api/Zo%C3%AB/a%2Fb');
    expect(renderUrl('https://api/{account.locations}', { clientId: 'c', account: lookup })).toBe('https://api/NY');
    expect(renderUrl('https://api/{sub}', { clientId: 'c', account: lookup })).toBeUndefined();
    expect(renderUrl('https://api/{account.name}', { sub: 's', clientId: 'c', account: lookup })).toBeUndefined();
  });

  test('response mapping by JSON Pointer or dotted path', () => {
    const body = { settings: { 'a/b': 1, desk: 'NY' }, list: [{ x: 1 }] };
    expect(pick(body, '/settings/desk')).toBe('NY');
    expect(pick(body, '/settings/a~1b')).toBe(1);
    expect(pick(body, 'settings.desk')).toBe('NY');
    expect(pick(body, '/list/0/x')).toBe(1);
    expect(pick(body, '/list/x')).toBeUndefined();
    expect(pick(body, '')).toBe(body);
    expect(pick(body, 'nope.deeper')).toBeUndefined();
  });
});
