import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { GitProviderEntity, gitProviderSecretsAad } from '@wharf/applications';
import { parseGitRepository, providerGitHost } from '@wharf/contracts';
import { NotFoundError, SecretBox } from '@wharf/core';
import { GIT_PROVIDER_PORT, GitCheckoutAuth, GitProviderConnection, GitProviderPort, GitSourceError } from '@wharf/orchestration';

/** Loads a Git provider connection with its secrets decrypted (worker memory only, never logged). */
@Injectable()
export class ProviderConnections {
  constructor(private readonly ds: DataSource, private readonly box: SecretBox, @Inject(GIT_PROVIDER_PORT) private readonly provider: GitProviderPort) {}

  async load(providerId: string): Promise<{ row: GitProviderEntity; connection: GitProviderConnection }> {
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
      },
    };
  }

  /**
   * Checkout credentials from a connection (a GitHub App mints a short-lived installation token), only for an https
   * repository on the connection's own Git host: a source cannot send an organization's token elsewhere.
   */
  async checkoutAuth(providerId: string, repository: string, signal?: AbortSignal): Promise<GitCheckoutAuth> {
    const { row, connection } = await this.load(providerId);
    const repo = parseGitRepository(repository);
    const host = providerGitHost(row.kind, connection.baseUrl);
    if (!repo.ok || repo.value.transport !== 'https' || repo.value.host !== host) {
      throw new GitSourceError(`the repository is not an https URL on ${host ?? 'the provider'}, the host of the Git provider connection "${row.name}"`, 'invalid-input');
    }
    try {
      const c = await this.provider.checkoutCredentials(connection, signal);
      return { kind: 'token', username: c.username, token: c.token };
    } catch (e) {
      throw new GitSourceError(`the Git provider connection "${row.name}" gave no credentials: ${(e as Error).message}`, 'authentication');
    }
  }
}
