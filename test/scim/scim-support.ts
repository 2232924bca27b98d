/**
 * Shared set-up of the SCIM suites: a Herald with the Herald extension of the issue's seed
 * (userId, locations, roles), provisioning clients that get tokens for the built-in `scim` API
 * with client credentials, and a small SCIM client over fetch.
 */
import type { HeraldConfigInput } from '../../src/config/config.schema.js';
import { baseConfig, startHerald, type StartOptions, type TestHerald } from '../support/herald.js';
import { clientPeer, oidc } from '../peers/client.js';

export const SCIM_SECRET = 'provisioning-secret-0123456789abcdef-0123';
export const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const HERALD = 'urn:ietf:params:scim:schemas:extension:herald:2.0:User';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** Provisioning clients: read+write (Entra-like), read-only, write-only, and one for another API. */
export function scimClients(): NonNullable<HeraldConfigInput['clients']> {
  return [
    { id: 'provisioner', secret: SCIM_SECRET, grantTypes: ['client_credentials'], apis: ['scim'] },
    { id: 'auditor', secret: SCIM_SECRET, grantTypes: ['client_credentials'], apis: ['scim'], scopes: ['scim:read'] },
    { id: 'writer', secret: SCIM_SECRET, grantTypes: ['client_credentials'], apis: ['scim'], scopes: ['scim:write'] },
    { id: 'trader-svc', secret: SCIM_SECRET, grantTypes: ['client_credentials'], apis: ['trading'] },
  ];
}

export const SEED_EXTENSION = { attributes: { userId: 'integer', locations: 'string[]', roles: 'string[]' } };

export function scimConfig(issuer: string, extra: Partial<HeraldConfigInput> = {}): HeraldConfigInput {
  return {
    ...baseConfig(issuer),
    clients: [...scimClients(), ...((extra.clients as unknown[]) ?? [])] as HeraldConfigInput['clients'],
    scim: { extension: SEED_EXTENSION, ...(extra.scim ?? {}) },
    ...Object.fromEntries(Object.entries(extra).filter(([key]) => key !== 'clients' && key !== 'scim')),
  };
}

export async function startScimHerald(extra: Partial<HeraldConfigInput> = {}, options: StartOptions = {}): Promise<TestHerald> {
  return startHerald((issuer) => scimConfig(issuer, extra), options);
}

export async function tokenFor(herald: TestHerald, clientId: string, scope: string): Promise<string> {
  const peer = await clientPeer(herald.issuer, clientId, SCIM_SECRET);
  const tokens = await oidc.clientCredentialsGrant(peer.config, { scope });
  return tokens.access_token;
}

export interface ScimResponse {
  status: number;
  headers: Headers;
  body: any;
}

export class ScimClient {
  constructor(
    readonly herald: TestHerald,
    private readonly token: string | undefined,
  ) {}

  static async connect(herald: TestHerald, clientId = 'provisioner', scope = 'scim:read scim:write'): Promise<ScimClient> {
    return new ScimClient(herald, await tokenFor(herald, clientId, scope));
  }

  /** `path` is relative to /scim/v2 (or absolute from the server root when it starts with /scim). */
  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ScimResponse> {
    const url = `${this.herald.issuer}${path.startsWith('/scim') ? path : `/scim/v2${path}`}`;
    const init: RequestInit = {
      method,
      headers: {
        accept: 'application/scim+json',
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    };
    const response = await fetch(url, init);
    const text = await response.text();
    let parsed: unknown;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    return { status: response.status, headers: response.headers, body: parsed };
  }

  get(path: string, headers?: Record<string, string>) {
    return this.request('GET', path, undefined, headers);
  }
  post(path: string, body: unknown, headers?: Record<string, string>) {
    return this.request('POST', path, body, headers);
  }
  put(path: string, body: unknown, headers?: Record<string, string>) {
    return this.request('PUT', path, body, headers);
  }
  patch(path: string, body: unknown, headers?: Record<string, string>) {
    return this.request('PATCH', path, body, headers);
  }
  delete(path: string, headers?: Record<string, string>) {
    return this.request('DELETE', path, undefined, headers);
  }

  /** Creates a user and returns the created resource (fails the test on any other status). */
  async createUser(resource: Record<string, unknown>): Promise<any> {
    const response = await this.post('/Users', { schemas: [CORE], ...resource });
    if (response.status !== 201) throw new Error(`create user failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }

  async createGroup(resource: Record<string, unknown>): Promise<any> {
    const response = await this.post('/Groups', { schemas: [GROUP], ...resource });
    if (response.status !== 201) throw new Error(`create group failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }
}

export function patchOp(...operations: Array<Record<string, unknown>>) {
  return { schemas: [PATCH_OP], Operations: operations };
}

/** The issue's seed account: core attributes plus userId, locations and roles. */
export const SEED_USER = {
  schemas: [CORE, HERALD],
  userName: 'john.doe@example.com',
  externalId: 'corp-2998',
  name: { givenName: 'John', familyName: 'Doe', formatted: 'John Doe' },
  displayName: 'John Doe',
  emails: [{ value: 'john.doe@example.com', type: 'work', primary: true }],
  active: true,
  [HERALD]: { userId: 2998, locations: ['NY'], roles: ['trader'] },
};
