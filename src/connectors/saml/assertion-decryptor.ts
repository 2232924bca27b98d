/**
 * Decrypts an EncryptedAssertion with whichever configured SP key opens it (two keys are accepted
 * during a roll-over; node-saml takes only one). The decryption itself is xml-encryption's, the
 * same library node-saml uses; Herald checks the layout and algorithms first, then hands the
 * winning key to node-saml, which decrypts again inside its own validation.
 */
import xmlenc from 'xml-encryption';
import type { Element } from '@xmldom/xmldom';
import { attr, child, children, descendants } from './xml-dom.js';
import { ALG, NS } from './xml-names.js';
import { reject } from './saml-rejection.js';
import { requireAllowed, type AlgorithmPolicy } from './algorithm-policy.js';

/**
 * xml-encryption 3.1 selects the OAEP hash only from these non-standard URIs (default SHA-1) and
 * silently treats the standard xmlenc#sha256 as SHA-1, which fails. Refuse the others clearly.
 */
const OAEP_DIGESTS = new Set<string>([ALG.sha1, 'http://www.w3.org/2000/09/xmldsig#sha256', 'http://www.w3.org/2000/09/xmldsig#sha512']);

function decryptWith(xml: string, key: string): Promise<string> {
  return new Promise((resolve, reject) => {
    xmlenc.decrypt(xml, { key, disallowDecryptionWithInsecureAlgorithm: true, warnInsecureAlgorithm: false }, (error, result) =>
      error ? reject(error) : resolve(result),
    );
  });
}

export interface DecryptedAssertion {
  /** Index of the SP key that decrypted it. */
  keyIndex: number;
  plaintext: string;
}

export async function decryptAssertion(encryptedAssertion: Element, keys: string[], algorithms: AlgorithmPolicy): Promise<DecryptedAssertion> {
  if (!keys.length) reject('decryption_failed', 'the assertion is encrypted but the connector has no SP decryption key');
  const data = children(encryptedAssertion, NS.xenc, 'EncryptedData');
  if (data.length !== 1) reject('decryption_failed', 'an EncryptedAssertion must hold exactly one EncryptedData');
  const all = descendants(encryptedAssertion);
  const encryptedKeys = all.filter((e) => e.localName === 'EncryptedKey');
  if (encryptedKeys.length !== 1) reject('decryption_failed', `expected exactly one EncryptedKey, found ${encryptedKeys.length}`);
  const cipherValues = all.filter((e) => e.localName === 'CipherValue');
  // xml-encryption takes the first CipherValue of the document as the wrapped key.
  if (cipherValues.length !== 2 || !descendants(encryptedKeys[0]!).includes(cipherValues[0]!)) reject('decryption_failed', 'unexpected EncryptedAssertion layout');

  requireAllowed(attr(child(data[0]!, NS.xenc, 'EncryptionMethod'), 'Algorithm'), algorithms.dataEncryption, 'data encryption');
  const keyMethod = child(encryptedKeys[0]!, NS.xenc, 'EncryptionMethod');
  requireAllowed(attr(keyMethod, 'Algorithm'), algorithms.keyTransport, 'key transport');
  const oaepDigest = attr(child(keyMethod, NS.ds, 'DigestMethod'), 'Algorithm');
  if (oaepDigest !== null && !OAEP_DIGESTS.has(oaepDigest)) reject('algorithm_not_allowed', `OAEP digest ${oaepDigest} is not supported by xml-encryption`);

  const xml = encryptedAssertion.toString();
  for (let i = 0; i < keys.length; i++) {
    try {
      return { keyIndex: i, plaintext: await decryptWith(xml, keys[i]!) };
    } catch {
      // RSA-OAEP fails reliably for a key the content key was not wrapped to: try the next one.
    }
  }
  return reject('decryption_failed', 'the assertion is not encrypted to any configured SP key, or does not decrypt');
}
