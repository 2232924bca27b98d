/**
 * The partner SAML IdP peer: samlify acting as an identity provider on a loopback port, signing
 * with its own key. It serves the SSO endpoint (HTTP-Redirect and HTTP-POST AuthnRequests, which
 * samlify parses and — when the peer wants signed requests — verifies against Herald's SP
 * metadata), answers with an auto-post form carrying a samlify-built and samlify-signed (and
 * optionally encrypted) Response to the ACS it read from Herald's metadata, and serves SLO and its
 * own metadata.
 *
 * Only Herald's side is under test, so the peer registers a no-op schema validator: samlify calls
 * it only when it parses an inbound message (Herald's requests), never when it builds a response
 * (see /work/notes/saml.md §11; the xmllint validator costs seconds per test file).
 *
 * `settings` shapes the next responses (what is signed, encryption, keys, field overrides); tests
 * that attack Herald take the auto-post form, rewrite SAMLResponse, and post it themselves.
 */
import 'reflect-metadata';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { randomUUID, webcrypto } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import * as x509 from '@peculiar/x509';
import samlify from 'samlify';
import { freePort } from '../support/ports.js';

samlify.setSchemaValidator({ validate: async () => 'skipped (test IdP: Herald is under test, not samlify)' });

const { Constants } = samlify;
const B = Constants.namespace.binding;

export interface KeyPair {
  key: string;
  certificate: string;
}

/** A fresh RSA-2048 key with a self-signed certificate (test material only). */
export async function generateKeyPair(commonName: string): Promise<KeyPair> {
  const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString('hex').replace(/^[89a-f]/, '1'),
      name: `CN=${commonName}`,
      notBefore: new Date(Date.now() - 86_400_000),
      notAfter: new Date(Date.now() + 365 * 86_400_000),
      keys,
      signingAlgorithm: alg,
    },
    webcrypto as unknown as Crypto,
  );
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  return { key: `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`, certificate: cert.toString('pem') };
}

export const certBody = (pem: string) => pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');

export interface SamlAttributeValue {
  name: string;
  friendlyName?: string;
  values: string[];
}

export interface SamlUser {
  nameId: string;
  nameIdFormat?: string;
  sessionIndex?: string;
  authnContextClassRef?: string;
  attributes?: SamlAttributeValue[];
}

/** Fields of the response template a test may override (times as ISO strings; null removes an InResponseTo). */
export interface ResponseOverrides {
  id?: string;
  assertionId?: string;
  issuer?: string;
  destination?: string;
  recipient?: string;
  audience?: string;
  notBefore?: string;
  notOnOrAfter?: string;
  scdNotOnOrAfter?: string;
  scdNotBefore?: string;
  inResponseTo?: string | null;
  scdInResponseTo?: string | null;
  issueInstant?: string;
}

export interface ResponseSettings {
  /** What the IdP signs. */
  sign: 'assertion' | 'response' | 'both';
  /** Encrypt the assertion to the SP's published encryption certificate (or to `encryptTo`). */
  encrypt?: boolean;
  /** Encrypt to this certificate instead of the one in Herald's metadata (roll-over tests). */
  encryptTo?: string;
  /** Signing key (default: the IdP's own). */
  signer?: KeyPair;
  signatureAlgorithm?: string;
  keyEncryptionAlgorithm?: string;
  user?: SamlUser;
  over?: ResponseOverrides;
}

export interface ReceivedAuthnRequest {
  id: string;
  binding: 'redirect' | 'post';
  xml: string;
  relayState?: string;
  /** true when samlify verified the SP's signature on it (only checked with `requireSignedRequests`). */
  signatureVerified: boolean;
}

export interface ReceivedLogoutRequest {
  id: string;
  nameId?: string;
  sessionIndex?: unknown;
  xml: string;
}

export interface SamlIdpOptions {
  /** The SP metadata URL of the Herald connector this IdP serves (read lazily; `useSp` switches). */
  spMetadataUrl: string;
  port?: number;
  signer?: KeyPair;
  user?: SamlUser;
  /** Refuse AuthnRequests/LogoutRequests that Herald did not sign (samlify verifies them). */
  requireSignedRequests?: boolean;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

export const DEFAULT_USER: SamlUser = {
  nameId: 'alice@partner.test',
  nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
  sessionIndex: '_session-alice-1',
  authnContextClassRef: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport',
  attributes: [
    { name: 'urn:oid:0.9.2342.19200300.100.1.3', friendlyName: 'mail', values: ['alice@partner.test'] },
    { name: 'urn:oid:2.5.4.42', friendlyName: 'givenName', values: ['Alice'] },
    { name: 'urn:oid:2.5.4.4', friendlyName: 'sn', values: ['Partner'] },
    { name: 'http://schemas.partner.test/claims/groups', friendlyName: 'groups', values: ['traders', 'desk-admins'] },
    { name: 'http://schemas.partner.test/claims/office', friendlyName: 'office', values: ['Zurich', 'London'] },
  ],
};

/**
 * Response XML for samlify to sign: NameID with format, a bearer SubjectConfirmation, Conditions
 * with the audience, an AuthnStatement, multi-valued attributes with FriendlyNames.
 */
function responseXml(t: Required<Omit<ResponseOverrides, 'scdNotBefore'>> & { scdNotBefore?: string; user: SamlUser }): string {
  const attrs = (t.user.attributes ?? [])
    .map(
      (a) =>
        `<saml:Attribute Name="${esc(a.name)}"${a.friendlyName ? ` FriendlyName="${esc(a.friendlyName)}"` : ''} NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">` +
        a.values.map((v) => `<saml:AttributeValue xsi:type="xs:string">${esc(v)}</saml:AttributeValue>`).join('') +
        '</saml:Attribute>',
    )
    .join('');
  const irt = t.inResponseTo ? ` InResponseTo="${esc(t.inResponseTo)}"` : '';
  const scdIrt = t.scdInResponseTo ? ` InResponseTo="${esc(t.scdInResponseTo)}"` : '';
  const scdNotBefore = t.scdNotBefore ? ` NotBefore="${t.scdNotBefore}"` : '';
  return (
    '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"' +
    ` ID="${t.id}" Version="2.0" IssueInstant="${t.issueInstant}" Destination="${esc(t.destination)}"${irt}>` +
    `<saml:Issuer>${esc(t.issuer)}</saml:Issuer>` +
    '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>' +
    '<saml:Assertion xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xs="http://www.w3.org/2001/XMLSchema"' +
    ` ID="${t.assertionId}" Version="2.0" IssueInstant="${t.issueInstant}">` +
    `<saml:Issuer>${esc(t.issuer)}</saml:Issuer>` +
    `<saml:Subject><saml:NameID Format="${esc(t.user.nameIdFormat ?? 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified')}">${esc(t.user.nameId)}</saml:NameID>` +
    '<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">' +
    `<saml:SubjectConfirmationData${scdNotBefore} NotOnOrAfter="${t.scdNotOnOrAfter}" Recipient="${esc(t.recipient)}"${scdIrt}/>` +
    '</saml:SubjectConfirmation></saml:Subject>' +
    `<saml:Conditions NotBefore="${t.notBefore}" NotOnOrAfter="${t.notOnOrAfter}">` +
    `<saml:AudienceRestriction><saml:Audience>${esc(t.audience)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${t.issueInstant}" SessionIndex="${esc(t.user.sessionIndex ?? '_s1')}">` +
    `<saml:AuthnContext><saml:AuthnContextClassRef>${esc(t.user.authnContextClassRef ?? 'urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified')}</saml:AuthnContextClassRef></saml:AuthnContext>` +
    '</saml:AuthnStatement>' +
    (attrs ? `<saml:AttributeStatement>${attrs}</saml:AttributeStatement>` : '') +
    '</saml:Assertion></samlp:Response>'
  );
}

/** Redirect-binding octet string: the raw query without Signature (SAML bindings §3.4.4.1). */
const octetString = (rawQuery: string) => rawQuery.split('&').filter((p) => !p.startsWith('Signature=')).join('&');

export class SamlIdp {
  readonly url: string;
  readonly entityId: string;
  readonly ssoUrl: string;
  readonly sloUrl: string;
  readonly metadataUrl: string;
  readonly signer: KeyPair;
  /** Shapes the next responses. */
  settings: ResponseSettings = { sign: 'both' };
  user: SamlUser;
  readonly authnRequests: ReceivedAuthnRequest[] = [];
  readonly logoutRequests: ReceivedLogoutRequest[] = [];
  /** Serve this instead of samlify's metadata (signed or tampered metadata tests). */
  metadataOverride: string | undefined;
  metadataHits = 0;
  private readonly spMetadata = new Map<string, string>();
  private spMetadataUrl: string;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    port: number,
    private readonly options: SamlIdpOptions,
    signer: KeyPair,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.entityId = `${this.url}/idp`;
    this.ssoUrl = `${this.url}/sso`;
    this.sloUrl = `${this.url}/slo`;
    this.metadataUrl = `${this.url}/metadata`;
    this.signer = signer;
    this.user = options.user ?? DEFAULT_USER;
    this.spMetadataUrl = options.spMetadataUrl;
  }

  /** Serve the Herald connector whose SP metadata is at `metadataUrl` (several connectors can trust one IdP). */
  useSp(metadataUrl: string): void {
    this.spMetadataUrl = metadataUrl;
  }

  static async start(options: SamlIdpOptions): Promise<SamlIdp> {
    const port = options.port ?? (await freePort());
    const signer = options.signer ?? (await generateKeyPair('partner-idp'));
    const server = createServer();
    const idp = new SamlIdp(server, port, options, signer);
    server.on('request', (req, res) => {
      idp.handle(req, res).catch((error) => {
        res.statusCode = 500;
        res.end(String(error?.stack ?? error));
      });
    });
    server.on('connection', (socket) => {
      idp.sockets.add(socket);
      socket.on('close', () => idp.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return idp;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** samlify's IdP entity with the given response settings. */
  identityProvider(settings: Partial<ResponseSettings> = {}, extra: Record<string, unknown> = {}) {
    const signer = settings.signer ?? this.signer;
    return samlify.IdentityProvider({
      entityID: this.entityId,
      signingCert: signer.certificate,
      privateKey: signer.key,
      isAssertionEncrypted: !!settings.encrypt,
      requestSignatureAlgorithm: settings.signatureAlgorithm ?? 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
      dataEncryptionAlgorithm: 'http://www.w3.org/2009/xmlenc11#aes256-gcm',
      keyEncryptionAlgorithm: settings.keyEncryptionAlgorithm ?? 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
      wantAuthnRequestsSigned: !!this.options.requireSignedRequests,
      wantLogoutRequestSigned: !!this.options.requireSignedRequests,
      nameIDFormat: ['urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress', 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent'],
      singleSignOnService: [
        { Binding: B.redirect, Location: this.ssoUrl },
        { Binding: B.post, Location: this.ssoUrl },
      ],
      singleLogoutService: [{ Binding: B.redirect, Location: this.sloUrl }],
      ...extra,
    } as Parameters<typeof samlify.IdentityProvider>[0]);
  }

  /** samlify's metadata for this IdP (what an admin would download). */
  metadata(): string {
    return this.identityProvider().getMetadata();
  }

  /** Herald's SP metadata, as this IdP read it from the connector's metadata URL. */
  async heraldMetadata(): Promise<string> {
    let metadata = this.spMetadata.get(this.spMetadataUrl);
    if (!metadata) {
      const response = await fetch(this.spMetadataUrl);
      if (!response.ok) throw new Error(`SP metadata: HTTP ${response.status}`);
      metadata = await response.text();
      this.spMetadata.set(this.spMetadataUrl, metadata);
    }
    return metadata;
  }

  /** samlify's SP entity for Herald, set up so the IdP signs what `sign` says. */
  async serviceProvider(settings: Partial<ResponseSettings> = {}) {
    let metadata = await this.heraldMetadata();
    if (settings.encryptTo) {
      metadata = metadata.replace(
        /(<md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>)[^<]+/,
        `$1${certBody(settings.encryptTo)}`,
      );
    }
    const sign = settings.sign ?? 'both';
    const sp = samlify.ServiceProvider({ metadata, wantMessageSigned: sign !== 'assertion', wantLogoutResponseSigned: true });
    const wantAssertionsSigned = sign !== 'response';
    sp.entityMeta.isWantAssertionsSigned = () => wantAssertionsSigned;
    return sp;
  }

  /**
   * Builds a signed (and optionally encrypted) login Response to `inResponseTo` with samlify.
   * Returns the base64 SAMLResponse form value and the ACS URL.
   */
  async buildResponse(inResponseTo: string | null, settings: ResponseSettings = this.settings): Promise<{ samlResponse: string; acsUrl: string; xml: string }> {
    const sp = await this.serviceProvider(settings);
    const idp = this.identityProvider(settings);
    const acs = sp.entityMeta.getAssertionConsumerService('post'); // short binding name, not the URN
    const acsUrl = (Array.isArray(acs) ? acs[0] : acs) as string;
    const now = new Date();
    const plus = (ms: number) => new Date(now.getTime() + ms).toISOString();
    const over = settings.over ?? {};
    const irt = over.inResponseTo !== undefined ? over.inResponseTo : inResponseTo;
    const result = await idp.createLoginResponse(sp, (irt ? { extract: { request: { id: irt } } } : {}) as never, 'post', {}, {
      // samlify signs the Response before encrypting unless told otherwise, which breaks the Response signature.
      encryptThenSign: !!settings.encrypt,
      customTagReplacement: () => {
        const id = over.id ?? `_r${randomUUID()}`;
        return {
          id,
          context: responseXml({
            id,
            assertionId: over.assertionId ?? `_a${randomUUID()}`,
            issueInstant: over.issueInstant ?? now.toISOString(),
            issuer: over.issuer ?? this.entityId,
            destination: over.destination ?? acsUrl,
            recipient: over.recipient ?? acsUrl,
            audience: over.audience ?? sp.entityMeta.getEntityID(),
            notBefore: over.notBefore ?? plus(-1000),
            notOnOrAfter: over.notOnOrAfter ?? plus(5 * 60_000),
            scdNotOnOrAfter: over.scdNotOnOrAfter ?? plus(5 * 60_000),
            scdNotBefore: over.scdNotBefore,
            inResponseTo: irt,
            scdInResponseTo: over.scdInResponseTo !== undefined ? over.scdInResponseTo : irt,
            user: settings.user ?? this.user,
          }),
        };
      },
    });
    return { samlResponse: result.context, acsUrl, xml: Buffer.from(result.context, 'base64').toString('utf8') };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const rawQuery = (req.url ?? '').includes('?') ? req.url!.slice(req.url!.indexOf('?') + 1) : '';
    if (url.pathname === '/metadata' && req.method === 'GET') {
      this.metadataHits++;
      res.writeHead(200, { 'content-type': 'application/samlmetadata+xml' }).end(this.metadataOverride ?? this.metadata());
      return;
    }
    if (url.pathname === '/sso') {
      const sp = await this.serviceProvider({ sign: 'both' });
      const idp = this.identityProvider({});
      let request: ReceivedAuthnRequest;
      if (req.method === 'GET') {
        const query = Object.fromEntries(url.searchParams);
        await idp.parseLoginRequest(sp, 'redirect', { query, octetString: octetString(rawQuery) });
        request = {
          id: '',
          binding: 'redirect',
          xml: inflateRawSync(Buffer.from(query.SAMLRequest ?? '', 'base64')).toString('utf8'),
          relayState: query.RelayState,
          signatureVerified: !!this.options.requireSignedRequests,
        };
      } else {
        const body = Object.fromEntries(new URLSearchParams(await readBody(req)));
        await idp.parseLoginRequest(sp, 'post', { body });
        request = {
          id: '',
          binding: 'post',
          xml: Buffer.from(body.SAMLRequest ?? '', 'base64').toString('utf8'),
          relayState: body.RelayState,
          signatureVerified: !!this.options.requireSignedRequests,
        };
      }
      request.id = /<samlp:AuthnRequest[^>]*\sID="([^"]+)"/.exec(request.xml)?.[1] ?? '';
      this.authnRequests.push(request);
      const { samlResponse, acsUrl } = await this.buildResponse(request.id);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(
        `<!DOCTYPE html><html><body><form id="saml" method="post" action="${esc(acsUrl)}">` +
          `<input type="hidden" name="SAMLResponse" value="${samlResponse}">` +
          (request.relayState !== undefined ? `<input type="hidden" name="RelayState" value="${esc(request.relayState)}">` : '') +
          '<button type="submit">Continue</button></form></body></html>',
      );
      return;
    }
    if (url.pathname === '/slo' && req.method === 'GET') {
      const sp = await this.serviceProvider({ sign: 'both' });
      const idp = this.identityProvider({});
      const query = Object.fromEntries(url.searchParams);
      const parsed = await idp.parseLogoutRequest(sp, 'redirect', { query, octetString: octetString(rawQuery) });
      const xml = inflateRawSync(Buffer.from(query.SAMLRequest ?? '', 'base64')).toString('utf8');
      this.logoutRequests.push({
        id: String(parsed.extract.request?.id ?? ''),
        nameId: [parsed.extract.nameID].flat()[0],
        sessionIndex: parsed.extract.sessionIndex,
        xml,
      });
      const answer = idp.createLogoutResponse(sp, parsed as never, 'redirect', query.RelayState ?? '');
      res.writeHead(302, { location: answer.context }).end();
      return;
    }
    res.writeHead(404).end('not found');
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
