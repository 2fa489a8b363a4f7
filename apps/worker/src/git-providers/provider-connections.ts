import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { GitProviderEntity, gitProviderOAuthAad, gitProviderSecretsAad } from '@wharf/applications';
import { GIT_PROVIDER_LABELS, parseGitRepository, providerGitHost } from '@wharf/contracts';
import { NotFoundError, SecretBox } from '@wharf/core';
import { GIT_PROVIDER_PORT, GitCheckoutAuth, GitProviderConnection, GitProviderError, GitProviderPort, GitSourceError, OAuthTokens } from '@wharf/orchestration';

/** An OAuth access token is refreshed when it expires within this long (a checkout or a build may take a while). */
export const OAUTH_REFRESH_MARGIN_MS = 5 * 60_000;

interface StoredTokens {
  accessToken: string;
  refreshToken: string;
}
interface OAuthColumns {
  oauth_box: string | null;
  oauth_status: string | null;
  oauth_expires_at: Date | null;
}

/**
 * Loads a Git provider connection with its secrets decrypted (worker memory only, never logged). A GitLab or Bitbucket
 * connection through OAuth gets its current access token, refreshed first when it expires within 5 minutes: the
 * refresh runs under the connection's row lock (SELECT … FOR UPDATE), so concurrent users wait and then take the
 * rotated token instead of spending the old refresh token twice; a refused refresh token marks the connection
 * 'needs-reauthorization'.
 */
@Injectable()
export class ProviderConnections {
  private readonly logger = new Logger('GitProviders');
  constructor(private readonly ds: DataSource, private readonly box: SecretBox, @Inject(GIT_PROVIDER_PORT) private readonly provider: GitProviderPort) {}

  /** The connection as stored (an OAuth connection without its access token). */
  async stored(providerId: string): Promise<{ row: GitProviderEntity; connection: GitProviderConnection }> {
    const row = await this.ds.getRepository(GitProviderEntity).findOneBy({ id: providerId });
    if (!row) throw new NotFoundError('Git provider');
    const secrets = row.secretsBox ? (JSON.parse(this.box.decrypt(row.secretsBox, gitProviderSecretsAad(row.id))) as Record<string, string>) : {};
    const s = row.settings;
    return {
      row,
      connection: {
        kind: row.kind, baseUrl: s.baseUrl,
        ...(s.appId ? { appId: s.appId } : {}), ...(s.installationId ? { installationId: s.installationId } : {}),
        ...(s.username ? { username: s.username } : {}), ...(s.workspace ? { workspace: s.workspace } : {}),
        ...(secrets.privateKey ? { privateKey: secrets.privateKey } : {}), ...(secrets.token ? { token: secrets.token } : {}),
        ...(s.auth === 'oauth' ? { auth: 'oauth' as const, clientId: s.clientId, clientSecret: secrets.clientSecret } : {}),
      },
    };
  }

  /** The connection ready for API calls and checkouts (an OAuth connection with a fresh access token). */
  async load(providerId: string, signal?: AbortSignal): Promise<{ row: GitProviderEntity; connection: GitProviderConnection }> {
    const loaded = await this.stored(providerId);
    if (loaded.connection.auth === 'oauth') loaded.connection.token = await this.accessToken(loaded.row, loaded.connection, signal);
    return loaded;
  }

  /**
   * Runs provider calls with the connection. When the provider refuses an OAuth connection's access token (401) before
   * its expiry (revoked, or replaced by another authorization), the token is refreshed once and the calls run again.
   */
  async use<T>(providerId: string, f: (c: GitProviderConnection, row: GitProviderEntity) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const { row, connection } = await this.load(providerId, signal);
    try {
      return await f(connection, row);
    } catch (e) {
      if (connection.auth !== 'oauth' || !(e instanceof GitProviderError) || e.reason !== 'authentication' || e.status !== 401 || !connection.token) throw e;
      connection.token = await this.accessToken(row, connection, signal, connection.token);
      return f(connection, row);
    }
  }

  /** Stores the tokens of a completed authorization (and who authorized), replacing earlier ones. */
  async storeAuthorization(providerId: string, t: OAuthTokens, username: string | null): Promise<void> {
    await this.ds.query(
      `UPDATE git_providers SET oauth_box = $2, oauth_status = 'authorized', oauth_expires_at = $3, oauth_username = $4, oauth_authorized_at = now(), oauth_error = NULL WHERE id = $1`,
      [providerId, this.sealTokens(providerId, t), t.expiresAt, username],
    );
  }

  private sealTokens(providerId: string, t: OAuthTokens): string {
    return this.box.encrypt(JSON.stringify({ accessToken: t.accessToken, refreshToken: t.refreshToken } satisfies StoredTokens), gitProviderOAuthAad(providerId));
  }

  private needsAuthorization(row: GitProviderEntity, why: string): GitProviderError {
    const label = GIT_PROVIDER_LABELS[row.kind];
    return new GitProviderError(`the ${label} connection "${row.name}" ${why}: use "Authorize with ${label}" in Organization settings → Git providers`, 'authentication');
  }

  private fresh(c: OAuthColumns): boolean {
    return c.oauth_expires_at === null || new Date(c.oauth_expires_at).getTime() - OAUTH_REFRESH_MARGIN_MS > Date.now();
  }

  /** `refused`: an access token the provider refused; it is replaced even before its expiry (unless someone already did). */
  private async accessToken(row: GitProviderEntity, c: GitProviderConnection, signal?: AbortSignal, refused?: string): Promise<string> {
    const cols: OAuthColumns = { oauth_box: row.oauthBox, oauth_status: row.oauthStatus, oauth_expires_at: row.oauthExpiresAt };
    if (!refused && cols.oauth_status === 'authorized' && cols.oauth_box && this.fresh(cols)) return this.open(row.id, cols.oauth_box).accessToken;
    // Near expiry: refresh under the row lock; whoever waited on the lock finds the rotated token and uses it.
    const out = await this.ds.transaction(async (m): Promise<{ token: string } | { error: GitProviderError }> => {
      const [locked] = (await m.query(`SELECT oauth_box, oauth_status, oauth_expires_at FROM git_providers WHERE id = $1 FOR UPDATE`, [row.id])) as OAuthColumns[];
      if (!locked) return { error: new GitProviderError('the Git provider connection no longer exists', 'not-found') };
      if (locked.oauth_status === 'needs-reauthorization') return { error: this.needsAuthorization(row, 'needs re-authorization (its refresh token was refused)') };
      if (locked.oauth_status !== 'authorized' || !locked.oauth_box) return { error: this.needsAuthorization(row, 'has not been authorized yet') };
      const stored = this.open(row.id, locked.oauth_box);
      if (refused ? stored.accessToken !== refused : this.fresh(locked)) return { token: stored.accessToken };
      try {
        const t = await this.provider.oauthToken(c, { grantType: 'refresh_token', refreshToken: stored.refreshToken }, signal);
        await m.query(`UPDATE git_providers SET oauth_box = $2, oauth_expires_at = $3, oauth_error = NULL WHERE id = $1`, [row.id, this.sealTokens(row.id, t), t.expiresAt]);
        return { token: t.accessToken };
      } catch (e) {
        if (!(e instanceof GitProviderError) || e.reason !== 'authentication') throw e;
        this.logger.warn(`OAuth refresh refused for ${row.kind} connection ${row.id}: ${e.message}`);
        await m.query(`UPDATE git_providers SET oauth_status = 'needs-reauthorization', oauth_error = $2 WHERE id = $1`, [row.id, `the refresh token was refused: ${e.message}`.slice(0, 500)]);
        return { error: this.needsAuthorization(row, 'needs re-authorization (its refresh token was refused)') };
      }
    });
    if ('error' in out) throw out.error;
    return out.token;
  }

  private open(providerId: string, box: string): StoredTokens {
    return JSON.parse(this.box.decrypt(box, gitProviderOAuthAad(providerId))) as StoredTokens;
  }

  /**
   * Checkout credentials from a connection (a GitHub App mints a short-lived installation token), only for an https
   * repository on the connection's own Git host: a source cannot send an organization's token elsewhere.
   */
  async checkoutAuth(providerId: string, repository: string, signal?: AbortSignal): Promise<GitCheckoutAuth> {
    const { row, connection } = await this.stored(providerId);
    const repo = parseGitRepository(repository);
    const host = providerGitHost(row.kind, connection.baseUrl);
    if (!repo.ok || repo.value.transport !== 'https' || repo.value.host !== host) {
      throw new GitSourceError(`the repository is not an https URL on ${host ?? 'the provider'}, the host of the Git provider connection "${row.name}"`, 'invalid-input');
    }
    try {
      if (connection.auth === 'oauth') connection.token = await this.accessToken(row, connection, signal);
      const c = await this.provider.checkoutCredentials(connection, signal);
      return { kind: 'token', username: c.username, token: c.token };
    } catch (e) {
      throw new GitSourceError(`the Git provider connection "${row.name}" gave no credentials: ${(e as Error).message}`, 'authentication');
    }
  }
}
