/**
 * Verifies a direct_post Authorization Response against its transaction: the response shape
 * (@openid4vc/openid4vp: state, vp_token structure, no id_token), then Herald's own checks on
 * the vp_token (only query ids the request asked for, one presentation per non-`multiple`
 * query), each presentation (sd-jwt-vc.verifier.ts), and finally the DCQL query evaluated with
 * `dcql` on the *verified* data — the wallet is never trusted to have applied the query.
 * Only the claims the query asked for are handed on.
 */
import { parseOpenid4vpAuthorizationResponse } from '@openid4vc/openid4vp';
import { DcqlPresentationResult, type DcqlQuery } from 'dcql';
import { reject } from './presentation-rejected.js';
import { verifySdJwtVcPresentation, type PresentationContext, type VerifiedCredential } from './sd-jwt-vc.verifier.js';

export interface VerifiedResponse {
  credentialQueryId: string;
  credential: VerifiedCredential;
  /** The DCQL output: exactly the requested claims, as disclosed. */
  requestedClaims: Record<string, unknown>;
}

export async function verifyAuthorizationResponse(
  body: Record<string, string>,
  requestPayload: Record<string, unknown>,
  dcqlQuery: DcqlQuery.Output,
  context: PresentationContext,
): Promise<VerifiedResponse> {
  let parsed: Awaited<ReturnType<typeof parseOpenid4vpAuthorizationResponse>>;
  try {
    parsed = await parseOpenid4vpAuthorizationResponse({
      authorizationResponse: body,
      authorizationRequestPayload: requestPayload as Parameters<typeof parseOpenid4vpAuthorizationResponse>[0]['authorizationRequestPayload'],
      callbacks: {
        decryptJwe: async () => reject('response_malformed', 'encrypted responses are not supported'),
        verifyJwt: async () => reject('response_malformed', 'signed responses are not supported'),
      },
    });
  } catch (error) {
    if ((error as { name?: string }).name === 'PresentationRejected') throw error;
    reject('response_malformed', String((error as Error).message ?? error), 'invalid_request', error);
  }
  if (parsed.type !== 'dcql') reject('response_malformed', 'the vp_token is not a DCQL response');

  const presentations = parsed.dcql.presentations as Record<string, unknown[]>;
  const input: Record<string, { credential_format: 'dc+sd-jwt'; vct: string; claims: Record<string, any>; cryptographic_holder_binding: boolean }[]> = {};
  const verified: Record<string, VerifiedCredential[]> = {};
  for (const [queryId, entries] of Object.entries(presentations)) {
    const query = dcqlQuery.credentials.find((candidate) => candidate.id === queryId);
    if (!query) reject('dcql_unsatisfied', `the vp_token answers credential query "${queryId}", which was not asked`);
    if (query.format !== 'dc+sd-jwt') reject('dcql_unsatisfied', `format ${query.format} is not supported`);
    if (!Array.isArray(entries) || entries.length === 0) reject('dcql_unsatisfied', `no presentation for "${queryId}"`);
    if (!query.multiple && entries.length > 1) reject('dcql_unsatisfied', `${entries.length} presentations for "${queryId}", which allows one`);
    const keyBindingRequired = context.keyBindingRequired || query.require_cryptographic_holder_binding !== false;
    verified[queryId] = [];
    input[queryId] = [];
    for (const entry of entries) {
      const credential = await verifySdJwtVcPresentation(entry, { ...context, keyBindingRequired });
      verified[queryId].push(credential);
      input[queryId].push({
        credential_format: 'dc+sd-jwt',
        vct: credential.vct,
        claims: credential.claims,
        // What Herald verified, not what the wallet claims.
        cryptographic_holder_binding: credential.holderBound,
      });
    }
  }

  let result: ReturnType<typeof DcqlPresentationResult.fromDcqlPresentation>;
  try {
    result = DcqlPresentationResult.fromDcqlPresentation(input as Parameters<typeof DcqlPresentationResult.fromDcqlPresentation>[0], { dcqlQuery });
  } catch (error) {
    reject('dcql_unsatisfied', String((error as Error).message ?? error), 'invalid_request', error);
  }
  if (!result.can_be_satisfied) reject('dcql_unsatisfied', describeUnsatisfied(result));

  // Herald's connector config allows exactly one credential query (openid4vp.config.ts).
  const queryId = dcqlQuery.credentials[0].id;
  const match = result.credential_matches[queryId];
  if (!match?.success) reject('dcql_unsatisfied', `credential query "${queryId}" is not answered`);
  const valid = match.valid_credentials[0];
  return {
    credentialQueryId: queryId,
    credential: verified[queryId]![valid.input_credential_index]!,
    requestedClaims: structuredClone(valid.claims.valid_claim_sets[0].output) as Record<string, unknown>,
  };
}

function describeUnsatisfied(result: ReturnType<typeof DcqlPresentationResult.fromDcqlPresentation>): string {
  const parts: string[] = [];
  for (const [id, match] of Object.entries(result.credential_matches ?? {})) {
    if (match.success) continue;
    const failed = (match as { failed_credentials?: Array<Record<string, any>> }).failed_credentials?.[0];
    const why = [
      failed?.meta?.success === false ? `type: ${JSON.stringify(failed.meta.issues)}` : undefined,
      failed?.claims?.success === false ? 'requested claims missing or not matching' : undefined,
      failed?.cryptographic_holder_binding === false ? 'holder binding' : undefined,
    ].filter(Boolean);
    parts.push(`${id}: ${why.join('; ') || 'no match'}`);
  }
  return parts.join(' / ') || 'the DCQL query is not satisfied';
}
