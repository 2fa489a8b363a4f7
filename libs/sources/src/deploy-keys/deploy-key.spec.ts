import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDeployKey } from './deploy-key';

describe('generateDeployKey', () => {
  it('makes an ed25519 pair: OpenSSH public key line, matching PKCS#8 key, fingerprint', () => {
    const k = generateDeployKey('app-1@wharf');
    expect(k.publicKey).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43} app-1@wharf$/);
    expect(k.privateKey).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END OPENSSH PRIVATE KEY-----\n$/);
    expect(k.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    // The PKCS#8 key signs what the public key in the line verifies.
    const raw = Buffer.from(k.publicKey.split(' ')[1], 'base64').subarray(-32);
    const pub = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
    const sig = sign(null, Buffer.from('x'), createPrivateKey(k.privateKeyPkcs8));
    expect(verify(null, Buffer.from('x'), pub, sig)).toBe(true);
    expect(generateDeployKey().publicKey).not.toBe(k.publicKey);
  });

  it('sanitises the comment', () => {
    expect(generateDeployKey('a b;$(id)\n').publicKey).toMatch(/ a-b---id--$/);
    expect(generateDeployKey('').publicKey).toMatch(/ wharf$/);
  });

  it('is read by OpenSSH: ssh-keygen derives the same public key and fingerprint from the private key', () => {
    const k = generateDeployKey('wharf');
    const dir = mkdtempSync(join(tmpdir(), 'wharf-key-'));
    try {
      const file = join(dir, 'id');
      writeFileSync(file, k.privateKey, { mode: 0o600 });
      const derived = execFileSync('ssh-keygen', ['-y', '-f', file], { encoding: 'utf8' }).trim();
      expect(derived.split(' ').slice(0, 2)).toEqual(k.publicKey.split(' ').slice(0, 2));
      const fp = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', file], { encoding: 'utf8' });
      expect(fp).toContain(k.fingerprint);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
