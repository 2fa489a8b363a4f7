import { Inject, Injectable } from '@nestjs/common';
import { createSecretKey, KeyObject } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import { deriveKey, UnauthenticatedError, WHARF_CONFIG, WharfConfig } from '@wharf/core';

export interface AccessClaims {
  userId: string;
  sessionId: string;
}

/** How many verified tokens `verify` remembers (a few hundred bytes each). */
const VERIFIED_CACHE_SIZE = 2000;

/**
 * Short-lived access JWTs (HS256, key derived from WHARF_SECRET_KEY for this purpose only). A token whose signature and
 * claims were verified is remembered until it expires, so the next request with it skips the HMAC and the parsing (the
 * result cannot change: same key, same bytes). Whether its session is still alive is not decided here but by the
 * caller on every request.
 */
@Injectable()
export class AccessTokenService {
  private readonly key: KeyObject;
  private readonly verified = new Map<string, AccessClaims & { exp: number }>();
  constructor(@Inject(WHARF_CONFIG) private readonly config: WharfConfig) {
    this.key = createSecretKey(deriveKey(config.secretKeys.get(config.secretKeyId)!, 'access-jwt'));
  }

  async issue(claims: AccessClaims): Promise<{ token: string; expiresIn: number }> {
    const expiresIn = this.config.accessTokenTtlSeconds;
    const token = await new SignJWT({ sid: claims.sessionId })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(claims.userId)
      .setIssuer('wharf')
      .setAudience('wharf-api')
      .setIssuedAt()
      .setExpirationTime(`${expiresIn}s`)
      .sign(this.key);
    return { token, expiresIn };
  }

  async verify(token: string): Promise<AccessClaims> {
    const now = Math.floor(Date.now() / 1000);
    const known = this.verified.get(token);
    if (known) {
      // The same test as jose's: expired once `exp` is not after now.
      if (known.exp > now) return { userId: known.userId, sessionId: known.sessionId };
      this.verified.delete(token);
    }
    let claims: AccessClaims & { exp?: number };
    try {
      const { payload } = await jwtVerify(token, this.key, { issuer: 'wharf', audience: 'wharf-api', algorithms: ['HS256'] });
      if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string') throw new Error('claims');
      claims = { userId: payload.sub, sessionId: payload.sid, exp: payload.exp };
    } catch {
      throw new UnauthenticatedError('The access token is invalid or expired', 'invalid-token');
    }
    if (typeof claims.exp === 'number' && Number.isFinite(claims.exp)) {
      if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(token, { userId: claims.userId, sessionId: claims.sessionId, exp: claims.exp });
    }
    return { userId: claims.userId, sessionId: claims.sessionId };
  }
}
