import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager, IsNull } from 'typeorm';
import { newId, randomToken, sha256, UnauthenticatedError, WHARF_CONFIG, WharfConfig } from '@wharf/core';
import { RefreshTokenEntity } from '../entities/refresh-token.entity';

export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
}

export interface IssuedRefresh {
  refreshToken: string;
  sessionId: string;
  userId: string;
}

export interface SessionView {
  id: string;
  createdAt: string;
  lastUsedAt: string;
  ip: string | null;
  userAgent: string | null;
  current: boolean;
}

/**
 * Rotating refresh tokens, stored hashed. A refresh token can be used once; presenting a used or revoked token again
 * (reuse) revokes its whole family, so a stolen token dies with the legitimate one.
 */
@Injectable()
export class SessionService {
  constructor(
    private readonly ds: DataSource,
    @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
  ) {}

  async start(userId: string, client: ClientInfo, m: EntityManager = this.ds.manager): Promise<IssuedRefresh> {
    return this.issue(m, userId, newId(), client);
  }

  private async issue(m: EntityManager, userId: string, familyId: string, client: ClientInfo): Promise<IssuedRefresh> {
    const token = `wrt_${randomToken(32)}`;
    await m.insert(RefreshTokenEntity, {
      id: newId(),
      userId,
      familyId,
      tokenHash: sha256(token),
      expiresAt: new Date(Date.now() + this.config.refreshTokenTtlSeconds * 1000),
      ip: client.ip?.slice(0, 100) ?? null,
      userAgent: client.userAgent?.slice(0, 500) ?? null,
    });
    return { refreshToken: token, sessionId: familyId, userId };
  }

  /** Exchanges a refresh token for a new one. Returns `reused: true` (and revokes the family) on reuse. */
  async rotate(token: string, client: ClientInfo): Promise<IssuedRefresh> {
    const outcome = await this.ds.transaction(async (m) => {
      const row = await m
        .createQueryBuilder(RefreshTokenEntity, 'r')
        .setLock('pessimistic_write')
        .where('r.token_hash = :h', { h: sha256(token) })
        .getOne();
      if (!row) return { error: 'invalid' as const };
      if (row.usedAt || row.revokedAt) {
        await m.update(RefreshTokenEntity, { familyId: row.familyId, revokedAt: IsNull() }, { revokedAt: new Date(), revokeReason: 'reuse-detected' });
        return { error: 'reused' as const, userId: row.userId, familyId: row.familyId };
      }
      if (row.expiresAt.getTime() <= Date.now()) return { error: 'expired' as const };
      await m.update(RefreshTokenEntity, { id: row.id }, { usedAt: new Date() });
      return { issued: await this.issue(m, row.userId, row.familyId, client) };
    });
    if ('issued' in outcome && outcome.issued) return outcome.issued;
    if (outcome.error === 'reused') {
      throw new UnauthenticatedError('This refresh token was already used; the session has been revoked', 'refresh-token-reused');
    }
    throw new UnauthenticatedError('The refresh token is invalid or expired', 'invalid-refresh-token');
  }

  async isActive(sessionId: string): Promise<boolean> {
    const r = await this.ds.query(`SELECT 1 FROM refresh_tokens WHERE family_id = $1 AND revoked_at IS NULL AND expires_at > now() LIMIT 1`, [sessionId]);
    return r.length > 0;
  }

  async revoke(userId: string, sessionId: string, reason: string, m: EntityManager = this.ds.manager): Promise<boolean> {
    const r = await m.update(RefreshTokenEntity, { userId, familyId: sessionId, revokedAt: IsNull() }, { revokedAt: new Date(), revokeReason: reason });
    return (r.affected ?? 0) > 0;
  }

  async revokeAllExcept(userId: string, keepSessionId: string | null, reason: string, m: EntityManager = this.ds.manager): Promise<void> {
    const qb = m
      .createQueryBuilder()
      .update(RefreshTokenEntity)
      .set({ revokedAt: new Date(), revokeReason: reason })
      .where('user_id = :userId AND revoked_at IS NULL', { userId });
    if (keepSessionId) qb.andWhere('family_id <> :keep', { keep: keepSessionId });
    await qb.execute();
  }

  async list(userId: string, currentSessionId: string | null): Promise<SessionView[]> {
    const rows: Array<{ family_id: string; created_at: Date; last_used_at: Date; ip: string | null; user_agent: string | null }> = await this.ds.query(
      `SELECT family_id, min(created_at) AS created_at, max(created_at) AS last_used_at,
              (array_agg(ip ORDER BY created_at DESC))[1] AS ip, (array_agg(user_agent ORDER BY created_at DESC))[1] AS user_agent
         FROM refresh_tokens WHERE user_id = $1
        GROUP BY family_id
       HAVING bool_or(revoked_at IS NULL AND used_at IS NULL AND expires_at > now())
        ORDER BY max(created_at) DESC`,
      [userId],
    );
    return rows.map((r) => ({
      id: r.family_id,
      createdAt: new Date(r.created_at).toISOString(),
      lastUsedAt: new Date(r.last_used_at).toISOString(),
      ip: r.ip,
      userAgent: r.user_agent,
      current: r.family_id === currentSessionId,
    }));
  }

  /** Deletes tokens expired or revoked more than a day ago. */
  async purgeStale(): Promise<number> {
    const r = await this.ds.query(`DELETE FROM refresh_tokens WHERE expires_at < now() - interval '1 day' OR revoked_at < now() - interval '1 day'`);
    return Number(r[1] ?? 0);
  }
}
