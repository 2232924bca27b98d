import { validateConfig } from '../../config/config.loader.js';
import { ConfigError } from '../../config/config.errors.js';
import { samlConnectorConfigSchema } from './saml.config.js';

const base = {
  type: 'saml',
  id: 'partner',
  name: 'Partner',
  idp: { entityId: 'https://idp.partner.example/metadata', ssoUrl: 'https://idp.partner.example/sso', certificates: ['-----BEGIN CERTIFICATE-----x'] },
};

function problems(connector: Record<string, unknown>): string[] {
  try {
    validateConfig({ issuer: 'https://herald.example', connectors: [connector] }, { env: {} });
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.problems.map((p) => `${p.key}: ${p.message}`);
  }
}

describe('SAML connector config', () => {
  test('a minimal entry gets the safe defaults', () => {
    expect(samlConnectorConfigSchema.parse(base)).toMatchObject({
      requireSignature: 'assertion',
      allowUnsolicited: false,
      allowSha1: false,
      allowXmlComments: false,
      clockSkewSeconds: 120,
      requestTtlSeconds: 600,
      maxMessageBytes: 300_000,
      maxInflatedBytes: 100_000,
      requireSignedLogoutResponse: true,
      trustEmail: false,
      forceAuthn: false,
      idp: { ssoBinding: 'redirect' },
      sp: { decryption: [], metadataValidDays: 7 },
    });
  });

  test.each([
    [{ requireSignature: 'neither' }, 'connectors[0].requireSignature'],
    [{ requireSignature: 'none' }, 'connectors[0].requireSignature'],
    [{ clockSkewSeconds: -1 }, 'connectors[0].clockSkewSeconds'],
    [{ clockSkewSeconds: 3600 }, 'connectors[0].clockSkewSeconds'],
    [{ idp: { entityId: 'x', ssoUrl: 'https://idp/sso' } }, 'connectors[0].idp.certificates: expected IdP signing certificates or idp.metadata'],
    [{ idp: { entityId: 'x', certificates: ['c'] } }, 'connectors[0].idp.ssoUrl: expected the IdP SSO URL or idp.metadata'],
    [{ idp: { ...base.idp, ssoUrl: 'ftp://idp/sso' } }, 'connectors[0].idp.ssoUrl: expected an http(s) URL'],
    [{ idp: { entityId: 'x', metadata: { url: 'https://idp/md', file: 'md.xml' } } }, 'connectors[0].idp.metadata: expected exactly one of url and file'],
    [{ idp: { entityId: 'x', metadata: { url: 'http://idp.partner.example/md', requireSignature: false } } }, 'connectors[0].idp.metadata.url: unsigned metadata must come over https'],
    [{ idp: { entityId: 'x', metadata: { url: 'https://idp/md', requireSignature: true } } }, 'connectors[0].idp.metadata.signingCertificates'],
    [{ allowUnsolicited: true }, 'connectors[0].unsolicitedLandingUrl: expected a landing URL'],
    [{ nameIdFormat: 'transient' }, 'connectors[0].subjectAttribute: a transient NameID changes at every sign-in'],
    [{ sp: { decryption: [{ key: 'k', certificate: 'c', publish: false }] } }, 'connectors[0].sp.decryption: at least one decryption key must be published'],
    [{ sp: { decryption: [1, 2, 3].map(() => ({ key: 'k', certificate: 'c' })) } }, 'connectors[0].sp.decryption'],
    [{ maxMessageBytes: 50_000_000 }, 'connectors[0].maxMessageBytes'],
    [{ audience: false }, 'connectors[0].audience: unknown key'],
  ])('%j is refused with the dotted key', (change, expected) => {
    const found = problems({ ...base, ...change });
    expect(found.some((p) => p.startsWith(expected))).toBe(true);
  });

  test.each([
    [{ idp: { entityId: 'x', metadata: { url: 'https://idp/md' } } }], // unsigned over https: accepted
    [{ idp: { entityId: 'x', metadata: { url: 'http://127.0.0.1:8080/md' } } }], // loopback (tests, sidecars)
    [{ idp: { entityId: 'x', metadata: { file: 'partner-idp.xml', signingCertificates: ['c'] } } }],
    [{ nameIdFormat: 'transient', subjectAttribute: 'employeeNumber' }],
    [{ allowUnsolicited: true, unsolicitedLandingUrl: 'https://app.example/login' }],
    [{ requireSignature: 'both', allowSha1: true }],
  ])('%j is accepted', (change) => {
    expect(problems({ ...base, ...change })).toEqual([]);
  });

  test('every field of the schema is described (it documents herald.yaml)', () => {
    const undescribed: string[] = [];
    const walk = (schema: any, path: string) => {
      const def = schema?._zod?.def;
      if (!def) return;
      if (def.type === 'object') {
        for (const [key, child] of Object.entries(def.shape as Record<string, any>)) {
          if (key !== 'type' && !child.description && !child._zod?.def?.innerType?.description) undescribed.push(`${path}.${key}`);
          walk(child, `${path}.${key}`);
        }
      } else if (def.innerType) walk(def.innerType, path);
      else if (def.type === 'array') walk(def.element, `${path}[]`);
      else if (def.type === 'pipe') walk(def.in, path);
    };
    walk(samlConnectorConfigSchema, 'saml');
    expect(undescribed).toEqual([]);
  });
});
