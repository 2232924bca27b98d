/**
 * Optional at-rest protection of private signing keys: AES-256-GCM with a key derived by HKDF
 * from `keys.encryptionSecret`. Both primitives come from node:crypto.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const PREFIX = 'enc:v1:';

function deriveKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), 'herald signing keys v1', 32));
}

export function sealPrivateJwk(json: string, secret: string | undefined): string {
  if (!secret) return json;
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', deriveKey(secret), iv);
  const ciphertext = Buffer.concat([cipher.update(json, 'utf8'), cipher.final()]);
  return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64url');
}

export function openPrivateJwk(stored: string, secret: string | undefined): string {
  if (!stored.startsWith(PREFIX)) return stored;
  if (!secret) throw new Error('signing keys are encrypted at rest but keys.encryptionSecret is not set');
  const raw = Buffer.from(stored.slice(PREFIX.length), 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', deriveKey(secret), raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  try {
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  } catch {
    throw new Error('cannot decrypt signing keys: keys.encryptionSecret is not the secret they were encrypted with');
  }
}
