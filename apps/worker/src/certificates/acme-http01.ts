import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PROXY_CONFIG_PORT, ProxyConfigPort } from '@wharf/orchestration';
import { WHARF_CONFIG, WharfConfig } from '@wharf/core';
import { ACME_CHALLENGE_FILE_KEY, renderAcmeChallengeConfig, toTraefikYaml } from '@wharf/routing';

/**
 * HTTP-01 as Wharf answers it: key authorizations go to PostgreSQL (any API replica answers
 * `/.well-known/acme-challenge/<token>` from there) and Traefik sends every host's challenge path on :80 to the API.
 * Shared by domains' certificates and the certificate of Wharf's own host.
 */
@Injectable()
export class AcmeHttp01 {
  constructor(
    private readonly ds: DataSource,
    @Inject(PROXY_CONFIG_PORT) private readonly proxyFiles: ProxyConfigPort,
    @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
  ) {}

  /** The router that sends every host's `/.well-known/acme-challenge/` on :80 to the API (written if it changed). */
  async ensureChallengeRouter(): Promise<void> {
    const [{ install_id: installId }]: Array<{ install_id: string }> = await this.ds.query(`SELECT install_id FROM instance WHERE id = 1`);
    await this.proxyFiles.write(ACME_CHALLENGE_FILE_KEY, toTraefikYaml(renderAcmeChallengeConfig({ installId, apiUrl: this.config.acme.challengeUpstream })));
  }

  /** What AcmePort's `http01` option takes: publish a token's key authorization for 15 minutes, then remove it. */
  readonly solver = {
    publish: async (token: string, keyAuthorization: string): Promise<void> => {
      await this.ds.query(
        `INSERT INTO acme_challenges (token, key_authorization, expires_at) VALUES ($1, $2, now() + interval '15 minutes')
         ON CONFLICT (token) DO UPDATE SET key_authorization = EXCLUDED.key_authorization, expires_at = EXCLUDED.expires_at`,
        [token, keyAuthorization],
      );
    },
    unpublish: async (token: string): Promise<void> => {
      await this.ds.query(`DELETE FROM acme_challenges WHERE token = $1 OR expires_at < now()`, [token]);
    },
  };
}
