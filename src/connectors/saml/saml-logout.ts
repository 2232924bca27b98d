/**
 * SP-initiated Single Logout over HTTP-Redirect: a (signed) LogoutRequest for the NameID and
 * SessionIndex of the sign-in, and the checks on the IdP's LogoutResponse. node-saml accepts an
 * unsigned redirect message (it verifies a query signature only when one is present), any SigAlg
 * Node knows, no InResponseTo, and inflates without limit; Herald refuses all four first.
 */
import { randomBytes } from 'node:crypto';
import type { Profile } from '@node-saml/node-saml';
import { attr, child } from './xml-dom.js';
import { NS, STATUS_SUCCESS } from './xml-names.js';
import { SamlRejection, reject } from './saml-rejection.js';
import { decodeRedirectMessage } from './saml-message-decoder.js';
import { parseStrict } from './xml-strict-parser.js';
import { requireAllowed } from './algorithm-policy.js';
import type { SamlRequestStore } from './saml-request-store.js';
import type { SamlServiceProvider } from './saml-service-provider.js';
import type { SamlSessionData } from './saml-identity.js';

export function newRequestId(): string {
  return `_${randomBytes(20).toString('hex')}`;
}

/** The IdP URL that logs the user out there, or undefined when the IdP has no SLO endpoint. */
export async function logoutRequestUrl(sp: SamlServiceProvider, requests: SamlRequestStore, session: SamlSessionData, returnTo: string): Promise<string | undefined> {
  const idp = sp.idp();
  if (!idp.sloUrl || !session.nameId) return undefined;
  const requestId = newRequestId();
  const saml = sp.saml({ cacheProvider: requests.cacheProvider({ kind: 'logout', returnTo }), requestId });
  // node-saml reads these Profile fields for the LogoutRequest; absent qualifiers are omitted.
  const user = {
    issuer: session.issuer,
    nameID: session.nameId.value,
    nameIDFormat: session.nameId.format ?? undefined,
    nameQualifier: session.nameId.nameQualifier ?? undefined,
    spNameQualifier: session.nameId.spNameQualifier ?? undefined,
    sessionIndex: session.sessionIndex ?? undefined,
  } as Profile;
  return saml.getLogoutUrlAsync(user, requestId, {});
}

/**
 * Validates a LogoutResponse arriving at the SP's SingleLogoutService. `rawQuery` is the query as
 * received (node-saml rebuilds the signed octets from it). Returns where the browser goes next.
 */
export async function acceptLogoutResponse(sp: SamlServiceProvider, requests: SamlRequestStore, rawQuery: string): Promise<{ returnTo?: string }> {
  const message = decodeRedirectMessage(rawQuery, sp.limits);
  if (message.kind !== 'SAMLResponse') reject('unexpected_message', 'IdP-initiated LogoutRequests are not supported');
  if (message.params.Signature === undefined) {
    if (sp.config.requireSignedLogoutResponse) reject('signature_missing', 'the LogoutResponse is not signed');
  } else {
    requireAllowed(message.params.SigAlg ?? null, sp.algorithms.redirectSignature, 'query signature algorithm');
  }
  const root = parseStrict(message.xml, { allowComments: sp.config.allowXmlComments }).documentElement!;
  if (root.localName !== 'LogoutResponse' || root.namespaceURI !== NS.samlp) reject('unexpected_message', `<${root.tagName}> is not a samlp:LogoutResponse`);
  const destination = attr(root, 'Destination');
  if (destination !== null ? destination !== sp.endpoints.sloUrl : message.params.Signature !== undefined) {
    reject('destination_mismatch', `LogoutResponse Destination "${destination}" is not this SingleLogoutService`);
  }
  const inResponseTo = attr(root, 'InResponseTo');
  if (!inResponseTo) reject('unsolicited_response', 'the LogoutResponse has no InResponseTo');
  const pending = await requests.lookup(inResponseTo);
  if (pending?.kind !== 'logout') reject('unknown_in_response_to', 'InResponseTo names no LogoutRequest this Herald issued');
  if (pending.answered) reject('replay', 'the LogoutRequest was already answered');
  const status = attr(child(child(root, NS.samlp, 'Status'), NS.samlp, 'StatusCode'), 'Value');
  if (status !== STATUS_SUCCESS) reject('status_not_success', `IdP logout status ${status}`);

  const saml = sp.saml({ cacheProvider: requests.cacheProvider({ kind: 'logout' }) });
  try {
    // Issuer (idpIssuer), status, InResponseTo in the store, and the query signature with the IdP certificates.
    await saml.validateRedirectAsync(message.params, rawQuery);
  } catch (error) {
    if (error instanceof SamlRejection) throw error;
    const text = (error as Error).message;
    const reason = /signature/i.test(text) ? 'signature_invalid' : /issuer/i.test(text) ? 'issuer_mismatch' : /InResponseTo/.test(text) ? 'unknown_in_response_to' : 'assertion_invalid';
    reject(reason, `node-saml: ${text}`, error);
  } finally {
    await requests.markAnswered(inResponseTo); // node-saml does not consume logout request IDs
  }
  return { returnTo: pending.returnTo };
}
