import * as argon2 from 'argon2';
import { ValidationError } from '@wharf/core';

/** argon2id with OWASP-recommended parameters. */
const OPTIONS = { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export function checkPasswordPolicy(password: string, pointer = '/password'): void {
  if (typeof password !== 'string' || password.length < 10) throw ValidationError.field(pointer, 'too-short', 'password must have at least 10 characters');
  if (password.length > 512) throw ValidationError.field(pointer, 'too-long', 'password must have at most 512 characters');
}

export const hashPassword = (password: string): Promise<string> => argon2.hash(password, OPTIONS);

export async function verifyPassword(hash: string | null, password: string): Promise<boolean> {
  if (!hash) {
    // Same work as a real check, so timing does not reveal whether the account exists.
    await argon2.hash(password, OPTIONS);
    return false;
  }
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}
