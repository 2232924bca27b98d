/**
 * Herald's SP metadata for one connector, served at its stable URL. Written here rather than with
 * node-saml's generator, which emits one NameIDFormat, a SingleLogoutService with the POST binding
 * only, one encryption certificate and no validUntil. Elements follow the metadata schema order.
 */
import { ALG, BINDING, NS } from './xml-names.js';
import { certificateBody } from './saml-credentials.js';
import type { SamlServiceProvider } from './saml-service-provider.js';

const escape = (value: string) => value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function keyDescriptor(use: 'signing' | 'encryption', certificate: string, extra = ''): string {
  return `<md:KeyDescriptor use="${use}"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certificateBody(certificate)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>${extra}</md:KeyDescriptor>`;
}

export function spMetadataXml(sp: SamlServiceProvider, now = Date.now()): string {
  const { endpoints, config } = sp;
  const validUntil = new Date(now + config.sp.metadataValidDays * 86_400_000).toISOString();
  const encryptionMethods = sp.algorithms.dataEncryption
    .filter((alg) => alg !== ALG.aes128cbc && alg !== ALG.aes256cbc) // advertise GCM; CBC is still accepted
    .map((alg) => `<md:EncryptionMethod Algorithm="${alg}"/>`)
    .join('');
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<md:EntityDescriptor xmlns:md="${NS.md}" xmlns:ds="${NS.ds}" entityID="${escape(endpoints.entityId)}" validUntil="${validUntil}">` +
    `<md:SPSSODescriptor protocolSupportEnumeration="${NS.samlp}" AuthnRequestsSigned="${!!sp.signing}" WantAssertionsSigned="${sp.wants.assertion}">` +
    (sp.signing ? keyDescriptor('signing', sp.signing.certificate) : '') +
    sp.decryption
      .filter((k) => k.publish)
      .map((k) => keyDescriptor('encryption', k.certificate, encryptionMethods))
      .join('') +
    `<md:SingleLogoutService Binding="${BINDING.redirect}" Location="${escape(endpoints.sloUrl)}"/>` +
    (sp.nameIdFormat ? `<md:NameIDFormat>${escape(sp.nameIdFormat)}</md:NameIDFormat>` : '') +
    `<md:AssertionConsumerService Binding="${BINDING.post}" Location="${escape(endpoints.acsUrl)}" index="0" isDefault="true"/>` +
    '</md:SPSSODescriptor></md:EntityDescriptor>'
  );
}
