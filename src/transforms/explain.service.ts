/**
 * `herald explain` and `POST /admin/transforms/explain`: for a connector, a sample upstream
 * identity, a client and scopes, the access token Herald would issue and where each claim came
 * from (`transform:<file>:<line>`, `account:<path>`, `static`, `provider:<id>`, `herald`).
 *
 * It runs the real transform chain (sandbox, bindings, HTTP capability) and the real
 * ClaimsService with in-memory sources: the transform output as the claim snapshot, the sample (or
 * stored) account with the transform's account updates applied. Nothing is written anywhere.
 */
import { randomUUID } from 'node:crypto';
import type { HeraldConfig } from '../config/config.schema.js';
import { OIDC_SCOPES } from '../config/config.schema.js';
import { ClaimRequiredError, ClaimsService } from '../claims/claims.service.js';
import type { ClaimSource } from '../claims/claim-source.js';
import { AccountClaimSource } from '../claims/sources/account.source.js';
import { StaticClaimSource } from '../claims/sources/static.source.js';
import { TransformClaimSource } from '../claims/sources/transform.source.js';
import type { Account, AccountReader } from '../users/account-attributes.js';
import { sampleAccount, sampleUpstream, SampleInputError } from './fixture-input.js';
import { transformInputOf, type TransformLogEntry, type TransformPipeline } from './transform-pipeline.js';

export interface ExplainRequest {
  connector: string;
  client: string;
  /** Requested scopes (space-separated string or list). */
  scopes: string[] | string;
  /** Sample upstream identity, as in a fixture case (`subject`, `attributes`, optional `protocol`…). */
  identity: unknown;
  /** A sample account (fixture format) … */
  account?: unknown;
  /** … or the id of a stored account. */
  userId?: string;
}

export interface ExplainResult {
  /** Whether Herald would issue this token. */
  wouldIssue: boolean;
  problems: string[];
  connector: string;
  client: string;
  transforms: {
    chain: string[];
    outcome: 'claims' | 'deny' | 'failed';
    detail?: Record<string, unknown>;
    runs: Array<{ transform: string; ms: number; ok: boolean }>;
    logs: TransformLogEntry[];
    accountUpdates?: Record<string, unknown>;
    risk?: number;
  };
  accessToken?: Record<string, unknown>;
  /** claim → origin */
  origins: Record<string, string>;
  /** Claims the scopes list that would have no value, with the sources tried. */
  unresolved: Record<string, string>;
}

export class ExplainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExplainError';
  }
}

const HERALD_CLAIMS = ['iss', 'sub', 'aud', 'client_id', 'scope', 'iat', 'exp', 'jti'];

export class ExplainService {
  constructor(
    private readonly config: HeraldConfig,
    private readonly pipeline: TransformPipeline,
    private readonly options: { accounts?: AccountReader; provider?: ClaimSource } = {},
  ) {}

  async explain(request: ExplainRequest): Promise<ExplainResult> {
    const config = this.config;
    const connector = config.connectors.find((c) => c.id === request.connector);
    if (!connector) throw new ExplainError(`unknown connector "${request.connector}"`);
    const client = config.clients.find((c) => c.id === request.client);
    if (!client) throw new ExplainError(`unknown client "${request.client}"`);
    const scopes = (Array.isArray(request.scopes) ? request.scopes : String(request.scopes ?? '').split(/\s+/)).filter(Boolean);
    const problems: string[] = [];
    if (client.connectors && !client.connectors.includes(connector.id)) problems.push(`client "${client.id}" may not sign in through connector "${connector.id}"`);

    let identity;
    try {
      identity = sampleUpstream(connector.type, request.identity);
    } catch (error) {
      if (error instanceof SampleInputError) throw new ExplainError(`identity: ${error.message}`);
      throw error;
    }
    let account: Account;
    if (request.userId) {
      const stored = await this.options.accounts?.findById(request.userId);
      if (!stored) throw new ExplainError(`no account with id "${request.userId}"`);
      account = stored;
    } else {
      try {
        account = sampleAccount(request.account ?? { id: `explain-${randomUUID().slice(0, 8)}` });
      } catch (error) {
        throw new ExplainError(`account: ${(error as Error).message}`);
      }
    }

    // Transforms: the same chain and sandbox as a sign-in.
    const chain = this.pipeline.chainFor(connector.transforms, connector.id, client.id);
    const evaluated = await this.pipeline.evaluate(chain, transformInputOf({ connector: { id: connector.id, type: connector.type, name: connector.name }, client: { id: client.id, name: client.name }, identity, account }));
    const outcome = evaluated.outcome;
    const transforms: ExplainResult['transforms'] = { chain, outcome: outcome.kind, runs: evaluated.runs, logs: evaluated.logs };
    const base = { connector: connector.id, client: client.id, transforms, origins: {}, unresolved: {} };
    if (outcome.kind === 'failed') {
      transforms.detail = { transform: outcome.transform, reason: outcome.reason, message: outcome.message, file: outcome.file, line: outcome.line, column: outcome.column };
      return { ...base, wouldIssue: false, problems: [...problems, `transform ${outcome.transform} failed: ${outcome.message}`] };
    }
    if (outcome.kind === 'deny') {
      transforms.detail = { transform: outcome.transform, reason: outcome.reason };
      return { ...base, wouldIssue: false, problems: [...problems, `transform ${outcome.transform} denies the sign-in: ${outcome.reason}`] };
    }
    if (outcome.accountUpdates) transforms.accountUpdates = outcome.accountUpdates;
    if (outcome.risk !== undefined) transforms.risk = outcome.risk;

    // Audience: the one API owning the requested (non-OIDC) scopes.
    const apiScopes = scopes.filter((s) => !(OIDC_SCOPES as readonly string[]).includes(s));
    const owners = new Set<string>();
    for (const scope of apiScopes) {
      const api = config.apis.find((a) => a.scopes.includes(scope));
      if (!api) problems.push(`unknown scope "${scope}"`);
      else owners.add(api.id);
    }
    if (owners.size > 1) problems.push(`the scopes belong to several APIs (${[...owners].join(', ')}); an access token has one audience`);
    const api = owners.size === 1 ? config.apis.find((a) => a.id === [...owners][0]) : undefined;
    if (api && !client.apis.includes(api.id)) problems.push(`client "${client.id}" may not get tokens for API "${api.id}"`);
    if (client.scopes) for (const scope of scopes) if (!client.scopes.includes(scope) && scope !== 'openid') problems.push(`client "${client.id}" may not ask for scope "${scope}"`);
    const granted = api ? apiScopes.filter((s) => api.scopes.includes(s)) : apiScopes;

    // Claims: the real ClaimsService over in-memory sources.
    const updated: Account = outcome.accountUpdates ? { ...account, custom: applyUpdates(account.custom, outcome.accountUpdates) } : account;
    const snapshot = { claims: outcome.claims, origins: outcome.origins };
    const sources: ClaimSource[] = [
      new TransformClaimSource({ get: async () => snapshot }),
      new AccountClaimSource({ findById: async () => updated }),
      new StaticClaimSource(),
      ...(this.options.provider ? [this.options.provider] : []),
    ];
    const claimsService = new ClaimsService(config, sources);
    let shaped: { claims: Record<string, unknown>; origins: Record<string, string> } = { claims: {}, origins: {} };
    try {
      shaped = await claimsService.shape({ clientId: client.id, accountId: updated.id, scopes: granted, audience: api?.identifier });
    } catch (error) {
      if (error instanceof ClaimRequiredError) problems.push(`required claim "${error.claim}" has no value`);
      else problems.push(`claims: ${(error as Error).message}`);
    }
    const unresolved: Record<string, string> = {};
    for (const scope of granted) {
      for (const spec of config.scopes[scope]?.claims ?? []) {
        const name = typeof spec === 'string' ? spec : spec.name;
        if (Object.hasOwn(shaped.claims, name) || HERALD_CLAIMS.includes(name)) continue;
        const from = typeof spec === 'string' ? 'transform, account' : spec.from ?? (spec.value !== undefined ? 'static' : 'transform, account');
        unresolved[name] = from === 'provider' && !this.options.provider ? `from claim provider "${typeof spec === 'string' ? '' : spec.provider}" at issuance (explain does not call it)` : `no value (tried: ${from})`;
      }
    }
    const iat = Math.floor(Date.now() / 1000);
    const accessToken: Record<string, unknown> = {
      iss: config.issuer,
      sub: updated.id,
      ...(api ? { aud: api.identifier } : {}),
      client_id: client.id,
      scope: scopes.join(' '),
      iat,
      ...(api ? { exp: iat + api.accessTokenTtl } : {}),
      jti: '(random at issuance)',
      ...shaped.claims,
    };
    const origins: Record<string, string> = {};
    for (const name of Object.keys(accessToken)) origins[name] = shaped.origins[name] ?? 'herald';
    return { wouldIssue: problems.length === 0, problems, connector: connector.id, client: client.id, transforms, accessToken, origins, unresolved };
  }
}

function applyUpdates(custom: Record<string, unknown>, updates: Record<string, unknown>): Record<string, unknown> {
  const out = { ...custom };
  for (const [name, value] of Object.entries(updates)) {
    if (value === null) delete out[name];
    else out[name] = value;
  }
  return out;
}
