import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { JobHandler } from '@wharf/core';
import { SessionService } from '@wharf/identity';
import { purgeExpiredInvitations } from '../members/member.commands';

/** Worker job: drops expired refresh tokens, OIDC login states and long-expired invitations. */
@Injectable()
export class IdentityMaintenance {
  constructor(private readonly ds: DataSource, private readonly sessions: SessionService) {}

  @JobHandler('identity.expire-stale')
  async expireStale(): Promise<{ refreshTokens: number; invitations: number; oidcLogins: number }> {
    const refreshTokens = await this.sessions.purgeStale();
    const invitations = await purgeExpiredInvitations(this.ds);
    const r = await this.ds.query(`DELETE FROM oidc_logins WHERE expires_at < now()`);
    return { refreshTokens, invitations, oidcLogins: Number(r[1] ?? 0) };
  }
}
