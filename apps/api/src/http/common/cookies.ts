import type { Response } from 'express';
import { randomToken, WharfConfig } from '@wharf/core';
import type { TokenPair } from '@wharf/tenancy';
import { ACCESS_COOKIE, CSRF_COOKIE, REFRESH_COOKIE } from './auth.guard';

/** The portal's session: httpOnly SameSite=Strict cookies plus a readable CSRF token for the header. */
export function setSessionCookies(res: Response, config: WharfConfig, t: TokenPair): void {
  const secure = config.publicUrl.startsWith('https:');
  res.cookie(ACCESS_COOKIE, t.accessToken, { httpOnly: true, sameSite: 'strict', secure, path: '/', maxAge: t.expiresIn * 1000 });
  res.cookie(REFRESH_COOKIE, t.refreshToken, { httpOnly: true, sameSite: 'strict', secure, path: '/api/v1/auth', maxAge: config.refreshTokenTtlSeconds * 1000 });
  res.cookie(CSRF_COOKIE, randomToken(18), { httpOnly: false, sameSite: 'strict', secure, path: '/', maxAge: config.refreshTokenTtlSeconds * 1000 });
}

export function clearSessionCookies(res: Response): void {
  res.clearCookie(ACCESS_COOKIE, { path: '/' });
  res.clearCookie(REFRESH_COOKIE, { path: '/api/v1/auth' });
  res.clearCookie(CSRF_COOKIE, { path: '/' });
}
