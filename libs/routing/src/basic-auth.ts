/**
 * bcrypt hashing for basic-auth users (Traefik's basicAuth middleware accepts bcrypt). The plain password exists only
 * in the request that sets it; the domain stores and renders the hash.
 */
import bcrypt from 'bcryptjs';
import { LIMITS } from './domain-spec';

export const BASIC_AUTH_BCRYPT_COST = 12;

export class BasicAuthPasswordError extends Error {}

/** Hashes a password with bcrypt (`$2b$`). Refuses empty passwords and those bcrypt would silently shorten (> 72 bytes). */
export async function hashBasicAuthPassword(password: string, cost = BASIC_AUTH_BCRYPT_COST): Promise<string> {
  if (typeof password !== 'string' || password.length === 0) throw new BasicAuthPasswordError('the password must not be empty');
  if (Buffer.byteLength(password, 'utf8') > LIMITS.passwordBytes) throw new BasicAuthPasswordError(`the password must be at most ${LIMITS.passwordBytes} bytes`);
  if (!Number.isInteger(cost) || cost < 10 || cost > 15) throw new BasicAuthPasswordError('the bcrypt cost must be from 10 to 15');
  return bcrypt.hash(password, cost);
}

/** Checks a password against a stored bcrypt hash (for tests and a future "test credentials" action). */
export function verifyBasicAuthPassword(password: string, hash: string): Promise<boolean> {
  return bcrypt.compare(password, hash);
}
