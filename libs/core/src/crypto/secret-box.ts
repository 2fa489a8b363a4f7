import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM encryption of secrets at rest. The ciphertext carries the key id so keys can be rotated:
 * `v1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url parts). `aad` binds a ciphertext to its row and field.
 */
export class SecretBox {
  constructor(
    private readonly currentKeyId: string,
    private readonly keys: Map<string, Buffer>,
  ) {
    if (!keys.has(currentKeyId)) throw new Error('current key id has no key');
  }

  encrypt(plain: string, aad = ''): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentKeyId)!, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', this.currentKeyId, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
  }

  decrypt(box: string, aad = ''): string {
    const parts = box.split('.');
    if (parts.length !== 5 || parts[0] !== 'v1') throw new Error('not a Wharf secret box');
    const key = this.keys.get(parts[1]);
    if (!key) throw new Error(`secret was encrypted with key "${parts[1]}", which is not configured`);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(parts[2], 'base64url'));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(Buffer.from(parts[3], 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(parts[4], 'base64url')), decipher.final()]).toString('utf8');
  }

  keyIdOf(box: string): string {
    return box.split('.')[1];
  }

  /** Re-encrypts with the current key when needed (key rotation). */
  rewrap(box: string, aad = ''): string {
    return this.keyIdOf(box) === this.currentKeyId ? box : this.encrypt(this.decrypt(box, aad), aad);
  }
}
