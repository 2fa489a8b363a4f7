import { Inject, Injectable } from '@nestjs/common';
import { jwtVerify, SignJWT } from 'jose';
import { deriveKey, UnauthenticatedError, WHARF_CONFIG, WharfConfig } from '@wharf/core';

export interface AccessClaims {
  userId: string;
  sessionId: string;
}

/** Short-lived access JWTs (HS256, key derived from WHARF_SECRET_KEY for this purpose only). */
@Injectable()
export class AccessTokenService {
  private readonly key: Uint8Array;
  constructor(@Inject(WHARF_CONFIG) private readonly config: WharfConfig) {
    this.key = deriveKey(config.secretKeys.get(config.secretKeyId)!, 'access-jwt');
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
    try {
      const { payload } = await jwtVerify(token, this.key, { issuer: 'wharf', audience: 'wharf-api', algorithms: ['HS256'] });
      if (typeof payload.sub !== 'string' || typeof payload.sid !== 'string') throw new Error('claims');
      return { userId: payload.sub, sessionId: payload.sid };
    } catch {
      throw new UnauthenticatedError('The access token is invalid or expired', 'invalid-token');
    }
  }
}
