/**
 * The development connector: a form where a developer types (or picks) the claims an upstream
 * would return, so a complete sign-in runs with no external IdP. Config validation refuses it
 * outside development mode.
 */
import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { html } from '../../ui/html.js';
import { ConnectorError, type BeginResult, type Connector, type ConnectorRoute, type ConnectorServices, type LoginContext, type UpstreamIdentity } from '../connector.js';
import type { devConnectorConfigSchema } from './dev.config.js';

type DevConfig = z.infer<typeof devConnectorConfigSchema>;

const STATE_TTL_SECONDS = 600;

export function identityFromDevClaims(claims: Record<string, unknown>): UpstreamIdentity {
  const subject = claims.sub;
  if (typeof subject !== 'string' || !subject) throw new ConnectorError('upstream_protocol', 'missing_subject', 'the claims need a non-empty "sub"');
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  return {
    subject,
    email: str(claims.email),
    emailVerified: claims.email_verified === true,
    name: str(claims.name),
    givenName: str(claims.given_name),
    familyName: str(claims.family_name),
    attributes: claims,
    amr: ['dev'],
    authTime: Math.floor(Date.now() / 1000),
    protocol: { kind: 'oidc', issuer: 'dev', idToken: claims, userinfo: {} },
  };
}

export class DevConnector implements Connector {
  readonly type = 'dev' as const;
  readonly id: string;
  readonly name: string;
  readonly transforms: string[];
  readonly emailDomains: string[];

  constructor(
    private readonly config: DevConfig,
    private readonly services: ConnectorServices,
  ) {
    this.id = config.id;
    this.name = config.name;
    this.transforms = config.transforms;
    this.emailDomains = config.emailDomains;
  }

  async begin(login: LoginContext): Promise<BeginResult> {
    const formState = randomBytes(24).toString('base64url');
    await this.services.state.put(formState, { interactionId: login.interactionId }, STATE_TTL_SECONDS);
    const samples = Object.entries(this.config.samples);
    const first = samples[0]?.[1] ?? { sub: 'dev-user-1', email: 'dev@example.com', email_verified: true, name: 'Dev User', groups: ['developers'] };
    const body = html`<h1>Development sign-in</h1>
<p>Type the claims an upstream identity provider would return. This page exists only in development mode.</p>
<form method="post" action="/connectors/${this.id}/submit">
<input type="hidden" name="state" value="${formState}">
${samples.length ? html`<label for="sample">Saved sample</label>
<select id="sample" name="sample"><option value="">(use the claims below)</option>${samples.map(([name]) => html`<option value="${name}">${name}</option>`)}</select>` : ''}
<label for="claims">Upstream claims (JSON)</label>
<textarea id="claims" name="claims" spellcheck="false">${JSON.stringify(first, null, 2)}</textarea>
<div class="actions"><button class="button primary" type="submit">Sign in</button></div>
</form>`;
    return { kind: 'page', page: this.services.ui.page({ title: 'Development sign-in', body }) };
  }

  routes(): ConnectorRoute[] {
    return [
      {
        method: 'POST',
        path: 'submit',
        handle: async (ctx) => {
          const body = (ctx.req.body ?? {}) as Record<string, unknown>;
          const state = typeof body.state === 'string' ? await this.services.state.take(body.state) : undefined;
          if (!state) return ctx.fail(undefined, new ConnectorError('upstream_protocol', 'state_unknown', 'dev form state missing, reused or expired'));
          const interactionId = String(state.interactionId);
          let claims: unknown;
          const sample = typeof body.sample === 'string' && body.sample ? this.config.samples[body.sample] : undefined;
          if (sample) claims = sample;
          else {
            try {
              claims = JSON.parse(String(body.claims ?? ''));
            } catch {
              return ctx.fail(interactionId, new ConnectorError('upstream_protocol', 'invalid_claims', 'the claims are not valid JSON'));
            }
          }
          if (!claims || typeof claims !== 'object' || Array.isArray(claims)) {
            return ctx.fail(interactionId, new ConnectorError('upstream_protocol', 'invalid_claims', 'the claims must be a JSON object'));
          }
          try {
            await ctx.succeed(interactionId, identityFromDevClaims(claims as Record<string, unknown>));
          } catch (error) {
            if (error instanceof ConnectorError) return ctx.fail(interactionId, error);
            throw error;
          }
        },
      },
    ];
  }
}

export function createDevConnector(config: DevConfig, services: ConnectorServices): Connector {
  if (!services.development) throw new Error(`connector "${config.id}": the dev connector only runs in development mode`);
  return new DevConnector(config, services);
}
