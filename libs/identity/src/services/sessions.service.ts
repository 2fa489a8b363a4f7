import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager, IsNull } from 'typeorm';
import { newId, randomToken, SecretBox, sha256, UnauthenticatedError, WHARF_CONFIG, WharfConfig } from '@wharf/core';
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

/** How long a just-rotated refresh token still yields the pair its rotation issued (two tabs, a retried request). */
export const REFRESH_GRACE_MS = 10_000;

const successorAad = (rowId: string): string => `refresh-token:${rowId}:successor`;

/**
 * Rotating refresh tokens, stored hashed. A refresh token can be used once; presenting a used or revoked token again
 * (reuse) revokes its whole family, so a stolen token dies with the legitimate one. Within REFRESH_GRACE_MS of its
 * rotation a token yields the same successor pair again (kept encrypted with the used row) instead: concurrent
 * refreshes of one session do not end it.
 */
@Injectable()
export class SessionService {
  constructor(
    private readonly ds: DataSource,
    @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
    private readonly box: SecretBox,
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

  /**
   * Exchanges a refresh token for a new one; `complete` turns it into the response (e.g. adds an access token), which
   * is kept encrypted so a repeat inside the grace window gets the very same response. Reuse after the window revokes
   * the family.
   */
  async rotate<T extends object>(token: string, client: ClientInfo, complete: (issued: IssuedRefresh) => Promise<T>): Promise<T> {
    const outcome = await this.ds.transaction(async (m) => {
      // The row lock makes concurrent rotations of one token queue: the second sees the first one's successor.
      const row = await m
        .createQueryBuilder(RefreshTokenEntity, 'r')
        .setLock('pessimistic_write')
        .where('r.token_hash = :h', { h: sha256(token) })
        .getOne();
      if (!row) return { error: 'invalid' as const };
      if (row.usedAt && !row.revokedAt && row.successorEnc && Date.now() - row.usedAt.getTime() < REFRESH_GRACE_MS) {
        const alive = await m.exists(RefreshTokenEntity, { where: { familyId: row.familyId, revokedAt: IsNull() } });
        if (alive) return { result: JSON.parse(this.box.decrypt(row.successorEnc, successorAad(row.id))) as T };
      }
      if (row.usedAt || row.revokedAt) {
        await m.update(RefreshTokenEntity, { familyId: row.familyId, revokedAt: IsNull() }, { revokedAt: new Date(), revokeReason: 'reuse-detected' });
        return { error: 'reused' as const, userId: row.userId, familyId: row.familyId };
      }
      if (row.expiresAt.getTime() <= Date.now()) return { error: 'expired' as const };
      const result = await complete(await this.issue(m, row.userId, row.familyId, client));
      await m.update(RefreshTokenEntity, { id: row.id }, { usedAt: new Date(), successorEnc: this.box.encrypt(JSON.stringify(result), successorAad(row.id)) });
      // Older rotations of the session are past their window: their kept responses are no longer needed.
      await m.query(
        `UPDATE refresh_tokens SET successor_enc = NULL WHERE family_id = $1 AND id <> $2 AND successor_enc IS NOT NULL AND used_at < now() - make_interval(secs => $3)`,
        [row.familyId, row.id, REFRESH_GRACE_MS / 1000],
      );
      return { result };
    });
    if ('result' in outcome) return outcome.result as T;
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
