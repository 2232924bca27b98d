/**
 * Sample inputs as people write them (fixture cases, `herald transforms run --input`, explain):
 * everything but `upstream.subject` may be omitted and gets the documented default, and the
 * protocol part is derived from the connector type when absent (docs/transforms.md, "Fixtures").
 */
import type { UpstreamIdentity } from '../connectors/connector.js';
import type { UpstreamProtocol } from '../connectors/upstream-protocol.js';
import type { Account } from '../users/account-attributes.js';

export class SampleInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SampleInputError';
  }
}

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `defaults` under `value`, recursively for plain objects (arrays and scalars in `value` win). */
export function deepMerge(defaults: unknown, value: unknown): unknown {
  if (!isObject(defaults) || !isObject(value)) return value === undefined ? defaults : value;
  const out: Obj = { ...defaults };
  for (const [key, item] of Object.entries(value)) out[key] = deepMerge(defaults[key], item);
  return out;
}

export function sampleConnector(value: unknown): { id: string; type: string; name: string } {
  const c = isObject(value) ? value : {};
  return { id: String(c.id ?? 'fixture'), type: String(c.type ?? 'oidc'), name: String(c.name ?? c.id ?? 'Fixture') };
}

export function sampleClient(value: unknown): { id: string; name?: string } {
  const c = isObject(value) ? value : {};
  return { id: String(c.id ?? 'fixture-client'), ...(typeof c.name === 'string' ? { name: c.name } : {}) };
}

export function sampleAccount(value: unknown): Account {
  const a = isObject(value) ? value : {};
  const section = (key: string): Obj => {
    const v = a[key];
    if (v === undefined) return {};
    if (!isObject(v)) throw new SampleInputError(`account.${key} must be an object`);
    return v;
  };
  const id = String(a.id ?? 'fixture-user');
  return {
    id,
    userName: String(a.userName ?? id),
    externalId: typeof a.externalId === 'string' ? a.externalId : null,
    active: a.active !== false,
    email: typeof a.email === 'string' ? a.email : null,
    emailVerified: a.emailVerified === true,
    core: section('core'),
    enterprise: section('enterprise'),
    custom: section('custom'),
  };
}

function derivedProtocol(connectorType: string, subject: string, attributes: Obj): UpstreamProtocol {
  switch (connectorType) {
    case 'saml':
      return {
        kind: 'saml',
        issuer: 'urn:example:idp',
        nameId: subject,
        attributes: attributes as Record<string, string[]>,
        friendlyAttributes: {},
      };
    case 'openid4vp':
      return { kind: 'wallet', format: 'dc+sd-jwt', credentialType: '', issuer: '', claims: attributes };
    default:
      return { kind: 'oidc', issuer: 'https://idp.example', idToken: attributes, userinfo: {} };
  }
}

export function sampleUpstream(connectorType: string, value: unknown): UpstreamIdentity {
  if (!isObject(value)) throw new SampleInputError('upstream must be an object with at least a subject');
  if (typeof value.subject !== 'string' || !value.subject) throw new SampleInputError('upstream.subject must be a non-empty string');
  const attributes = value.attributes ?? {};
  if (!isObject(attributes)) throw new SampleInputError('upstream.attributes must be an object');
  if (value.protocol !== undefined && (!isObject(value.protocol) || !['oidc', 'saml', 'wallet'].includes(String(value.protocol.kind)))) {
    throw new SampleInputError('upstream.protocol.kind must be oidc, saml or wallet');
  }
  const str = (key: string) => (typeof value[key] === 'string' ? (value[key] as string) : undefined);
  return {
    subject: value.subject,
    email: str('email'),
    emailVerified: typeof value.emailVerified === 'boolean' ? value.emailVerified : undefined,
    name: str('name'),
    givenName: str('givenName'),
    familyName: str('familyName'),
    attributes,
    amr: Array.isArray(value.amr) ? value.amr.map(String) : [],
    acr: str('acr'),
    authTime: typeof value.authTime === 'number' ? value.authTime : undefined,
    protocol: (value.protocol as unknown as UpstreamProtocol | undefined) ?? derivedProtocol(connectorType, value.subject, attributes),
  };
}
