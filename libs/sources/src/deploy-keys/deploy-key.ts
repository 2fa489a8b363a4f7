/**
 * Deploy keys: an ed25519 pair per application. Wharf shows the public key (to add to the repository as a read-only
 * deploy key) and keeps the private key encrypted; the git adapter writes it to a per-build 0600 file. The private key
 * is in OpenSSH's own format (`-----BEGIN OPENSSH PRIVATE KEY-----`, unencrypted inside Wharf's encrypted storage),
 * which every OpenSSH client reads; the PKCS#8 form is returned too for libraries that prefer it.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';

export interface DeployKeyPair {
  /** `ssh-ed25519 AAAA… <comment>` — one line for authorized_keys or a provider's deploy-key form. */
  publicKey: string;
  /** OpenSSH private key (PEM-armoured, LF line endings, trailing newline). */
  privateKey: string;
  /** PKCS#8 PEM of the same key. */
  privateKeyPkcs8: string;
  /** `SHA256:…` as `ssh-keygen -lf` prints it. */
  fingerprint: string;
}

function sshString(b: Buffer | string): Buffer {
  const data = typeof b === 'string' ? Buffer.from(b, 'utf8') : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  return Buffer.concat([len, data]);
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** The comment after the public key: letters, digits and `._@-` only (it is shown and pasted, never parsed). */
function safeComment(comment: string): string {
  const c = comment.replace(/[^A-Za-z0-9._@-]/g, '-').slice(0, 64);
  return c || 'wharf';
}

export function generateDeployKey(comment = 'wharf'): DeployKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
  const name = safeComment(comment);

  const publicBlob = Buffer.concat([sshString('ssh-ed25519'), sshString(pub)]);
  const check = randomBytes(4).readUInt32BE();
  let section = Buffer.concat([uint32(check), uint32(check), sshString('ssh-ed25519'), sshString(pub), sshString(Buffer.concat([seed, pub])), sshString(name)]);
  const pad: number[] = [];
  for (let i = 1; (section.length + pad.length) % 8 !== 0; i++) pad.push(i);
  section = Buffer.concat([section, Buffer.from(pad)]);
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0', 'latin1'),
    sshString('none'),
    sshString('none'),
    sshString(''),
    uint32(1),
    sshString(publicBlob),
    sshString(section),
  ]);
  const b64 = body.toString('base64').match(/.{1,70}/g)!.join('\n');
  return {
    publicKey: `ssh-ed25519 ${publicBlob.toString('base64')} ${name}`,
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}\n-----END OPENSSH PRIVATE KEY-----\n`,
    privateKeyPkcs8: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    fingerprint: `SHA256:${createHash('sha256').update(publicBlob).digest('base64').replace(/=+$/, '')}`,
  };
}

/** `SHA256:…` of an OpenSSH public key line (`ssh-ed25519 AAAA… comment`), as `ssh-keygen -lf` prints it. */
export function fingerprintOf(publicKeyLine: string): string {
  const blob = Buffer.from(publicKeyLine.trim().split(/\s+/)[1] ?? '', 'base64');
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}
