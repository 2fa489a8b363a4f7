import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ForbiddenError, safeEqual, UnauthenticatedError } from '@wharf/core';
import { Authenticator, ClientContext, Principal } from '@wharf/tenancy';
import { IS_PUBLIC } from './public.decorator';

export const ACCESS_COOKIE = 'wharf_access';
export const REFRESH_COOKIE = 'wharf_refresh';
export const CSRF_COOKIE = 'wharf_csrf';
export const CSRF_HEADER = 'x-csrf-token';

export type AuthedRequest = Request & { id?: string; principal?: Principal };

export function clientOf(req: AuthedRequest): ClientContext {
  const ua = req.headers['user-agent'];
  return { ip: req.ip ?? null, userAgent: typeof ua === 'string' ? ua.slice(0, 500) : null, requestId: req.id ?? null };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Global authentication: `X-API-Key`, `Authorization: Bearer`, or the portal's httpOnly cookie (with a CSRF header on
 * mutations). Credentials are never read from the query string. Public routes still get a principal when one is sent.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(private readonly reflector: Reflector, private readonly authenticator: Authenticator) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [ctx.getHandler(), ctx.getClass()]);
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    try {
      req.principal = await this.authenticate(req);
    } catch (e) {
      if (!isPublic) throw e;
      return true;
    }
    if (!req.principal && !isPublic) throw new UnauthenticatedError();
    return true;
  }

  private async authenticate(req: AuthedRequest): Promise<Principal | undefined> {
    const client = clientOf(req);
    const apiKey = req.headers['x-api-key'];
    if (typeof apiKey === 'string' && apiKey) return this.authenticator.fromApiKey(apiKey, client);
    const auth = req.headers.authorization;
    if (typeof auth === 'string' && auth) {
      const m = /^Bearer\s+(\S+)$/i.exec(auth);
      if (!m) throw new UnauthenticatedError('Authorization must be "Bearer <token>"', 'invalid-token');
      return m[1].startsWith('wk_') ? this.authenticator.fromApiKey(m[1], client) : this.authenticator.fromAccessToken(m[1], client);
    }
    const cookie = (req.cookies as Record<string, string> | undefined)?.[ACCESS_COOKIE];
    if (cookie) {
      if (!SAFE_METHODS.has(req.method)) {
        const header = req.headers[CSRF_HEADER];
        const expected = (req.cookies as Record<string, string>)[CSRF_COOKIE];
        if (typeof header !== 'string' || !expected || !safeEqual(header, expected)) throw new ForbiddenError('Missing or wrong CSRF token', 'csrf');
      }
      return this.authenticator.fromAccessToken(cookie, client);
    }
    return undefined;
  }
}
