import { authenticator } from 'otplib';
import { randomBytes } from 'node:crypto';
import { sha256 } from '@wharf/core';

authenticator.options = { window: 1, step: 30, digits: 6 };

export const generateTotpSecret = (): string => authenticator.generateSecret(20);
export const totpUri = (email: string, secret: string): string => authenticator.keyuri(email, 'Wharf', secret);
export const checkTotp = (code: string, secret: string): boolean => /^\d{6}$/.test(code) && authenticator.check(code, secret);
export const currentTotp = (secret: string): string => authenticator.generate(secret);

/** Ten one-time recovery codes (shown once) and their hashes (stored). */
export function generateRecoveryCodes(): { codes: string[]; hashes: string[] } {
  const codes = Array.from({ length: 10 }, () => {
    const s = randomBytes(5).toString('hex');
    return `${s.slice(0, 5)}-${s.slice(5)}`;
  });
  return { codes, hashes: codes.map((c) => sha256(c)) };
}
