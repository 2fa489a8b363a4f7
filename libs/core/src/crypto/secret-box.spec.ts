import { randomBytes } from 'node:crypto';
import { SecretBox } from './secret-box';

describe('SecretBox', () => {
  const k1 = randomBytes(32);
  const k2 = randomBytes(32);

  it('round-trips unicode and hostile text, with a fresh IV each time', () => {
    const box = new SecretBox('k1', new Map([['k1', k1]]));
    const plain = `p@ss'"$(rm -rf /)\`\n🚀 ${'x'.repeat(10000)}`;
    const a = box.encrypt(plain, 'row:1');
    const b = box.encrypt(plain, 'row:1');
    expect(a).not.toBe(b);
    expect(a).not.toContain('p@ss');
    expect(box.decrypt(a, 'row:1')).toBe(plain);
  });

  it('binds a ciphertext to its associated data and detects tampering', () => {
    const box = new SecretBox('k1', new Map([['k1', k1]]));
    const c = box.encrypt('secret', 'row:1');
    expect(() => box.decrypt(c, 'row:2')).toThrow();
    const parts = c.split('.');
    parts[4] = Buffer.from('tampered').toString('base64url');
    expect(() => box.decrypt(parts.join('.'), 'row:1')).toThrow();
  });

  it('decrypts with an old key after rotation and rewraps with the new one', () => {
    const old = new SecretBox('k1', new Map([['k1', k1]]));
    const c = old.encrypt('secret');
    const rotated = new SecretBox('k2', new Map([['k1', k1], ['k2', k2]]));
    expect(rotated.decrypt(c)).toBe('secret');
    const re = rotated.rewrap(c);
    expect(rotated.keyIdOf(re)).toBe('k2');
    expect(new SecretBox('k2', new Map([['k2', k2]])).decrypt(re)).toBe('secret');
    expect(() => new SecretBox('k2', new Map([['k2', k2]])).decrypt(c)).toThrow(/key "k1"/);
  });
});
