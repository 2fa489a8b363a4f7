/** Queue and job names. Every job name has exactly one processor (checked at startup). Payloads carry ids only. */
/**
 * The watchdog has a queue of its own: a maintenance or deployment job stuck on a hung call can never keep it from
 * recovering deployments and deletions.
 */
export const QUEUES = { maintenance: 'maintenance', deployments: 'deployments', watchdog: 'watchdog' } as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export interface JobPayloads {
  'outbox.purge-published': { v: 1 };
  'identity.expire-stale': { v: 1 };
  'audit.purge-expired': { v: 1 };
  /** jobId = deploymentId, so a deployment is queued at most once. */
  'deployment.run': { v: 1; deploymentId: string };
  'deployment.watchdog': { v: 1 };
  'runtime.reconcile': { v: 1; applicationId?: string };
  'application.remove': { v: 1; applicationId: string; removeVolumes: boolean };
  'deployments.purge-logs': { v: 1 };
  /**
   * Removes the Swarm services (and, for an environment or organization, the overlay networks) that carry this
   * install's labels and `wharf.<scope>` = id, after that parent was deleted. Found by labels, not by rows: the rows
   * are gone with the SQL cascade. jobId = `teardown:<scope>:<id>[:pass]`. With `removeVolumes`, also the named
   * volumes carrying the same labels, after the services (unlabelled legacy volumes are never found, so never removed).
   */
  'engine.teardown': { v: 1; scope: 'environment' | 'project' | 'organization'; id: string; removeVolumes?: boolean };
  /** Obtains (or renews) the ACME certificate of one domain. jobId = `certificate:<domainId>:<reason>`. */
  'certificate.issue': { v: 1; domainId: string };
  /** Renews the certificates that are due, retries failed ones whose backoff ended, warns of expiring uploads. */
  'certificates.renew-due': { v: 1 };
  /** Rewrites one application's Traefik file from its domains and certificates (a change applies without a redeploy). */
  'routing.apply': { v: 1; applicationId: string };
  /**
   * Wharf's own host behind the edge (an https WHARF_PUBLIC_URL): writes its Traefik file and keeps its certificate
   * (ACME, or the files WHARF_TLS_CERT_FILE/KEY_FILE) valid. Repeating; `force` orders now, ignoring the backoff.
   */
  'instance.tls': { v: 1; force?: boolean };
  /** Webhook delivery history retention: 30 days (rejected ones 7), at most 1,000 per application. */
  'webhooks.purge-deliveries': { v: 1 };
  /**
   * Posts a Git deployment's state to its provider as a commit status (the source uses a Git provider connection).
   * Best effort: a failure is logged, never retried into the deployment. jobId = `commit-status:<deploymentId>:<state>`.
   */
  'git-provider.commit-status': { v: 1; deploymentId: string; state: 'pending' | 'success' | 'failure' };
  /** Uploaded source archives no source and none of the newest WHARF_UPLOADS_KEEP deployments names are removed. */
  'sources.purge-uploads': { v: 1 };
}
export type JobName = keyof JobPayloads;

export const JOB_QUEUES: Record<JobName, QueueName> = {
  'outbox.purge-published': QUEUES.maintenance,
  'identity.expire-stale': QUEUES.maintenance,
  'audit.purge-expired': QUEUES.maintenance,
  'deployment.run': QUEUES.deployments,
  'deployment.watchdog': QUEUES.watchdog,
  'runtime.reconcile': QUEUES.maintenance,
  'application.remove': QUEUES.deployments,
  'deployments.purge-logs': QUEUES.maintenance,
  'engine.teardown': QUEUES.deployments,
  'certificate.issue': QUEUES.maintenance,
  'certificates.renew-due': QUEUES.maintenance,
  'routing.apply': QUEUES.maintenance,
  'instance.tls': QUEUES.maintenance,
  'webhooks.purge-deliveries': QUEUES.maintenance,
  'git-provider.commit-status': QUEUES.maintenance,
  'sources.purge-uploads': QUEUES.maintenance,
};
