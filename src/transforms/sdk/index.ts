/**
 * `@herald/transform` — the SDK that transform files import (tsconfig `paths` and jest's
 * moduleNameMapper point here; Herald's checker and bundler resolve the same file).
 *
 * A transform is `transforms/<name>.ts` that default-exports `defineTransform({ run })`. It runs in
 * a sandbox (isolated-vm): no Node.js APIs, no modules, no network, no timers. It receives frozen
 * JSON input and reaches the outside world only through `ctx` (http.getJson to allow-listed
 * origins, secrets granted by name, log lines into the audit trail).
 *
 * Everything here is types plus a few pure functions. The functions are bundled into the
 * transform, so they must stay plain JavaScript with no imports (the bundler refuses any).
 * See docs/transforms.md.
 */
import type { OidcUpstream, SamlUpstream, WalletUpstream } from '../../connectors/upstream-protocol.js';

export type { OidcUpstream, SamlUpstream, WalletUpstream } from '../../connectors/upstream-protocol.js';

/** A JSON value, as a transform returns it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A read-only JSON value, as the (deep-frozen) input is typed. */
export type ReadonlyJson = null | boolean | number | string | readonly ReadonlyJson[] | { readonly [key: string]: ReadonlyJson };

export type ReadonlyJsonObject = { readonly [key: string]: ReadonlyJson };

/** The JSON view of a type: `unknown` values become ReadonlyJson, everything deep read-only. */
export type AsInput<T> = unknown extends T
  ? ReadonlyJson
  : T extends string | number | boolean | null | undefined
    ? T
    : T extends readonly (infer E)[]
      ? readonly AsInput<E>[]
      : { readonly [K in keyof T]: AsInput<T[K]> };

/**
 * Claims Herald alone sets; a transform may never set them (a type error, and refused at run time).
 * src/claims/reserved-claims.ts uses this list at run time.
 */
export const RESERVED_CLAIMS = [
  'iss',
  'sub',
  'aud',
  'exp',
  'nbf',
  'iat',
  'jti',
  'cnf',
  'client_id',
  'scope',
  'auth_time',
  'nonce',
  'acr',
  'amr',
  'sid',
  'azp',
  'at_hash',
  'c_hash',
  's_hash',
  'typ',
  'act',
  'may_act',
  'authorization_details',
] as const;
export type ReservedClaim = (typeof RESERVED_CLAIMS)[number];

/** Kinds of upstream (`input.upstream.protocol.kind`). */
export type UpstreamKind = 'oidc' | 'saml' | 'wallet';

/** What the upstream said, per kind (the connector types, as read-only JSON). */
export type OidcInput = AsInput<OidcUpstream>;
export type SamlInput = AsInput<SamlUpstream>;
export type WalletInput = AsInput<WalletUpstream>;
export type ProtocolInput<K extends UpstreamKind = UpstreamKind> = Extract<OidcInput | SamlInput | WalletInput, { kind: K }>;

/** The upstream identity, normalized across protocols, with the protocol-specific part in `protocol`. */
export interface UpstreamInput<K extends UpstreamKind = UpstreamKind> {
  /** Stable within the connector: OIDC `sub`, SAML NameID (or the configured attribute), wallet subject. */
  readonly subject: string;
  readonly email?: string;
  readonly emailVerified?: boolean;
  readonly name?: string;
  readonly givenName?: string;
  readonly familyName?: string;
  /** Raw attributes: ID token + userinfo claims, SAML attributes (always arrays), disclosed claims. */
  readonly attributes: ReadonlyJsonObject;
  /** Authentication methods the upstream reported (e.g. `pwd`, `mfa`); empty when it said nothing. */
  readonly amr: readonly string[];
  readonly acr?: string;
  /** Seconds since the epoch when the upstream authenticated the user. */
  readonly authTime?: number;
  /** Discriminated by `kind`: `oidc` (idToken, userinfo), `saml` (nameId, attributes…), `wallet` (credential). */
  readonly protocol: ProtocolInput<K>;
}

/** The Herald account the sign-in is linked to (SCIM shape). */
export interface AccountInput {
  /** Herald user id: the `sub` of Herald's tokens. */
  readonly id: string;
  readonly userName: string;
  readonly externalId: string | null;
  readonly email: string | null;
  readonly emailVerified: boolean;
  /** SCIM core attributes (name, emails, displayName…). */
  readonly core: ReadonlyJsonObject;
  /** SCIM enterprise extension (department, employeeNumber…). */
  readonly enterprise: ReadonlyJsonObject;
  /** Herald extension attributes (`scim.extension.attributes`), e.g. userId, locations. */
  readonly custom: ReadonlyJsonObject;
}

export interface TransformInput<K extends UpstreamKind = UpstreamKind> {
  readonly upstream: UpstreamInput<K>;
  readonly account: AccountInput;
  /** The connector the user signed in through (`type`: dev, oidc, saml, openid4vp). */
  readonly connector: { readonly id: string; readonly type: string; readonly name: string };
  /** The OAuth client the sign-in is for. */
  readonly client: { readonly id: string; readonly name?: string };
  /** Claims produced by the transforms before this one in the chain (empty for the first). */
  readonly claims: ReadonlyJsonObject;
}

export interface GetJsonOptions {
  /** Cache a successful response for this many seconds (capped by configuration). */
  readonly cacheTtlSeconds?: number;
  /** Extra request headers, e.g. an Authorization header built from a secret. */
  readonly headers?: { readonly [name: string]: string };
}

export interface TransformContext {
  readonly http: {
    /**
     * GET a JSON document from an origin the configuration allow-lists for this transform.
     * Throws on an origin not on the allow-list, a non-2xx status, a redirect, a body over the size
     * cap, invalid JSON, a timeout, or when the run's wall-time budget is spent.
     */
    getJson<T = Json>(url: string, options?: GetJsonOptions): Promise<T>;
  };
  readonly secrets: {
    /** A secret granted to this transform by name; throws for any other name. Never put it in output. */
    get(name: string): string;
  };
  /** A line in the audit trail (`transform.logged`), bounded in count and size. */
  log(message: string, data?: Json): void;
}

/**
 * Claims to add to tokens (input values may be passed through as they are); reserved names are a
 * type error. A member whose value is `undefined` is left out, as JSON.stringify does.
 */
export type Claims = { [claim: string]: ReadonlyJson | undefined } & { [K in ReservedClaim]?: never };

export interface RiskSignal {
  /** 0 (no risk) … 100; configuration decides what score allows, denies or asks for a second factor. */
  score: number;
  reasons?: string[];
}

export interface TransformResult {
  claims: Claims;
  /** Herald extension attributes to store on the account (only names configuration allows); `null` removes one, `undefined` leaves it. */
  accountUpdates?: { [attribute: string]: ReadonlyJson | undefined };
  risk?: RiskSignal;
}

export interface TransformDenial {
  /** Why; recorded in the audit trail. The user and the client only see a generic denial. */
  deny: string;
}

export type TransformOutput = TransformResult | TransformDenial;

export interface TransformDefinition<K extends UpstreamKind = UpstreamKind> {
  /**
   * Upstream kinds this transform is written for. Herald refuses to start when a connector of
   * another kind is bound to it, and `input.upstream.protocol` is typed accordingly.
   */
  readonly protocols?: readonly K[];
  run(input: TransformInput<K>, ctx: TransformContext): TransformOutput | Promise<TransformOutput>;
}

/** A definition for any upstream kinds: what a transform file must default-export. */
export type AnyTransformDefinition = TransformDefinition<any>;

/** Gives a transform its types: `export default defineTransform({ protocols: ['saml'], run(input, ctx) { … } })`. */
export function defineTransform<const K extends UpstreamKind = UpstreamKind>(definition: TransformDefinition<K>): TransformDefinition<K> {
  return definition;
}

/** A value as a list of strings: a string becomes `[s]`, an array keeps its strings, anything else `[]`. */
export function strings(value: ReadonlyJson | undefined): string[] {
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value)) return [];
  const out: string[] = [];
  for (const item of value as readonly ReadonlyJson[]) if (typeof item === 'string') out.push(item);
  return out;
}

/** The first string of a value (a string, or the first string in an array), else undefined. */
export function firstString(value: ReadonlyJson | undefined): string | undefined {
  return strings(value)[0];
}
