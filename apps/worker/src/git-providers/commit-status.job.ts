import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ApplicationSourceEntity, DeploymentEntity } from '@wharf/applications';
import { JobPayloads, parseGitRepository, providerGitHost } from '@wharf/contracts';
import { JobHandler, WHARF_CONFIG, WharfConfig } from '@wharf/core';
import { GIT_PROVIDER_PORT, GitProviderPort } from '@wharf/orchestration';
import { ProviderConnections } from './provider-connections';

const DESCRIPTION = { pending: 'Wharf is deploying this commit', success: 'Deployed by Wharf', failure: 'The Wharf deployment failed' } as const;

/**
 * Posts a Git deployment's state as a commit status on its provider (GitHub statuses, GitLab commit statuses, Gitea
 * statuses, Bitbucket build statuses), named `wharf/<application>`, linking to the deployments in the portal. Best
 * effort: nothing to post (no commit known yet, the source no longer uses a connection) is skipped, and a provider
 * failure is logged and never touches the deployment.
 */
@Injectable()
export class CommitStatusJob {
  private readonly logger = new Logger('CommitStatus');

  constructor(
    private readonly ds: DataSource,
    private readonly connections: ProviderConnections,
    @Inject(GIT_PROVIDER_PORT) private readonly provider: GitProviderPort,
    @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
  ) {}

  @JobHandler('git-provider.commit-status')
  async post(payload: JobPayloads['git-provider.commit-status']): Promise<{ posted: boolean; reason?: string }> {
    const d = await this.ds.getRepository(DeploymentEntity).findOneBy({ id: payload.deploymentId });
    const src = d ? await this.ds.getRepository(ApplicationSourceEntity).findOneBy({ applicationId: d.applicationId }) : null;
    if (!d || !src?.providerId) return { posted: false, reason: 'no deployment or no provider connection' };
    const repository = d.source?.repository ?? d.snapshot.source?.repository ?? src.repository;
    const commit = d.source?.commit ?? d.snapshot.source?.commit ?? null;
    if (!commit) return { posted: false, reason: 'the commit is not known yet' };
    try {
      const app = await this.ds.query(`SELECT name FROM applications WHERE id = $1`, [d.applicationId]);
      const name = String(app[0]?.name ?? 'application');
      return await this.connections.use(src.providerId, async (connection, row) => {
        const repo = parseGitRepository(repository);
        if (!repo.ok || repo.value.host !== providerGitHost(row.kind, connection.baseUrl)) return { posted: false, reason: 'the repository is not on the provider' };
        const fullName = repo.value.path.replace(/^\/+/, '').replace(/\.git$/, '');
        await this.provider.postCommitStatus(connection, {
          repository: fullName, commit, state: payload.state, context: `wharf/${name}`, description: DESCRIPTION[payload.state],
          targetUrl: `${this.config.publicUrl}/orgs/${d.organizationId}/applications/${d.applicationId}/deployments`,
        });
        return { posted: true };
      });
    } catch (e) {
      this.logger.warn(`commit status ${payload.state} for deployment ${d.id} not posted: ${(e as Error).message}`);
      return { posted: false, reason: (e as Error).message };
    }
  }
}
