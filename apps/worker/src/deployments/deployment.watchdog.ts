import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ApplicationEntity, DeploymentLifecycle, DeploymentScheduler, engineVolumesOf } from '@wharf/applications';
import { JobHandler, JobProducer, TransactionRunner } from '@wharf/core';
import { SWARM_PORT, SwarmPort } from '@wharf/orchestration';
import { SYSTEM_ACTOR } from '@wharf/tenancy';
import { MAX_RUN_MARGIN_MS } from './wait-budget';
import { ApplicationRouting } from '../routing/application-routing';

/** Pull budget plus margin on top of a deployment's own convergence timeout (the runner's own maximum run time). */
const OVERALL_MARGIN_MS = MAX_RUN_MARGIN_MS;
/** How long one removal job waits for a running deployment of the application to end before Bull retries it. */
const REMOVE_WAIT_MS = 10_000;

/**
 * Recovery: a running deployment whose worker stopped renewing its lease is handed to the queue again (resumed) or,
 * past its overall deadline, failed; a queued deployment at the head of its application gets its job (jobId dedupes).
 * Runs every few seconds and at worker start, so after a crash nothing stays `running` or `queued` forever.
 */
@Injectable()
export class DeploymentWatchdog implements OnApplicationBootstrap {
  private readonly logger = new Logger('Watchdog');
  constructor(
    private readonly ds: DataSource,
    private readonly lifecycle: DeploymentLifecycle,
    private readonly scheduler: DeploymentScheduler,
    private readonly jobs: JobProducer,
    private readonly tx: TransactionRunner,
    @Inject(SWARM_PORT) private readonly swarm: SwarmPort,
    private readonly routing: ApplicationRouting,
  ) {}

  /**
   * One sweep as soon as a worker starts (through the watchdog queue, so it never overlaps a scheduled one): what a
   * worker that shut down or died left behind is resumed now, not at the next repeat.
   */
  async onApplicationBootstrap(): Promise<void> {
    await this.jobs.enqueue('deployment.watchdog', { v: 1 }, { jobId: `watchdog:start:${process.pid}:${Date.now()}` }).catch((e: Error) => this.logger.warn(`start-up sweep not queued: ${e.message}`));
  }

  @JobHandler('deployment.watchdog')
  async sweep(): Promise<{ resumed: number; timedOut: number; kicked: number }> {
    let resumed = 0;
    let timedOut = 0;
    const sweptAt = Date.now();
    const stale: Array<{ id: string; application_id: string; attempts: number; overdue: boolean }> = await this.ds.query(
      `SELECT id, application_id, attempts, (started_at + ((snapshot->'spec'->>'deployTimeoutMs')::int + $1) * interval '1 millisecond' < now()) AS overdue
         FROM deployments WHERE status = 'running' AND (lease_expires_at IS NULL OR lease_expires_at < now())`,
      [OVERALL_MARGIN_MS],
    );
    for (const d of stale) {
      if (d.overdue) {
        if (await this.lifecycle.finish(d.id, null, 'failed', 'Timed out: the worker running it stopped and the deadline passed')) timedOut++;
      } else {
        // Not `jobId = d.id`: the dead worker's job still sits in Bull's active list until Bull's stalled check (30 s)
        // frees it, and an add with that id would be a no-op. A new resume job every sweep while the lease stays
        // expired: a stalled (SIGSTOPped) worker's pending queue read can take one and sit on it until the stalled
        // check, and the next sweep must not be deduped behind it. The claim's lease check keeps a deployment from
        // ever running twice at once; extra jobs are skipped.
        await this.jobs.enqueue('deployment.run', { v: 1, deploymentId: d.id }, { jobId: `${d.id}:resume:${d.attempts}:${sweptAt}`, attempts: 5, backoff: { type: 'exponential', delay: 2000 } });
        resumed++;
      }
    }
    const heads: Array<{ application_id: string }> = await this.ds.query(
      `SELECT DISTINCT application_id FROM deployments q WHERE status = 'queued' AND NOT EXISTS (SELECT 1 FROM deployments r WHERE r.application_id = q.application_id AND r.status = 'running')`,
    );
    let kicked = 0;
    for (const h of heads) if (await this.scheduler.kick(h.application_id)) kicked++;
    if (resumed || timedOut) this.logger.warn(`recovered deployments: ${resumed} resumed, ${timedOut} timed out`);
    // An application stuck in `deleting` (its removal job was lost or gave up) gets its job again; the jobId dedupes
    // while one is waiting or running.
    const deleting: Array<{ id: string; delete_volumes: boolean }> = await this.ds.query(`SELECT id, delete_volumes FROM applications WHERE deleting`);
    for (const a of deleting) {
      await this.jobs.enqueue('application.remove', { v: 1, applicationId: a.id, removeVolumes: a.delete_volumes }, { jobId: `remove:${a.id}`, attempts: 10, backoff: { type: 'exponential', delay: 3000 } });
    }
    return { resumed, timedOut, kicked };
  }

  /** Deployment logs older than the organization's retention are deleted; the deployment history itself stays. */
  @JobHandler('deployments.purge-logs')
  async purgeLogs(): Promise<{ deleted: number }> {
    const r = await this.ds.query(
      `DELETE FROM deployment_logs l USING deployments d, organizations o
        WHERE l.deployment_id = d.id AND o.id = d.organization_id AND d.finished_at IS NOT NULL
          AND d.finished_at < now() - o.deployment_log_retention_days * interval '1 day'`,
    );
    return { deleted: Number(r[1] ?? 0) };
  }

  /**
   * A running deployment of an application being deleted ends first: the delete request set its cancel flag, which its
   * worker reads at the next lease renewal (or the watchdog resumes it, cancelled, when that worker died). Removing the
   * service under it would let it create or restore the service again afterwards. Throws (Bull retries) if it is still
   * running after a while.
   */
  private async untilNoRunningDeployment(applicationId: string): Promise<void> {
    await this.ds.query(`UPDATE deployments SET cancel_requested_at = now() WHERE application_id = $1 AND status = 'running' AND cancel_requested_at IS NULL`, [applicationId]);
    const deadline = Date.now() + REMOVE_WAIT_MS;
    for (;;) {
      const [running]: Array<{ id: string }> = await this.ds.query(`SELECT id FROM deployments WHERE application_id = $1 AND status = 'running' LIMIT 1`, [applicationId]);
      if (!running) return;
      if (Date.now() > deadline) throw new Error(`Deployment ${running.id} of application ${applicationId} is still running (cancel requested); the removal is retried`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  @JobHandler('application.remove')
  async remove(payload: { applicationId: string; removeVolumes: boolean }): Promise<{ removed: boolean }> {
    const app = await this.ds.getRepository(ApplicationEntity).findOneBy({ id: payload.applicationId });
    if (!app) return { removed: false };
    await this.untilNoRunningDeployment(app.id);
    // Its routes go first, so the proxy stops sending requests to a service about to disappear.
    await this.routing.remove(app.id);
    const service = await this.swarm.inspectService(app.serviceName);
    // Only a service this install created is ever removed.
    const [{ install_id: install }] = await this.ds.query(`SELECT install_id FROM instance WHERE id = 1`);
    if (service && service.labels['wharf.install'] === install && service.labels['wharf.service'] === app.id) await this.swarm.removeService(service.id);
    const volumes: string[] = [];
    const volumesKept: string[] = [];
    if (payload.removeVolumes) {
      // Only volumes that carry this install's labels and belong to this application (its environment, its id) are
      // removed; an unlabelled volume (legacy, or not Wharf's) or one another application of the environment still
      // mounts is kept. The service's containers release a volume once they are gone: retry while "in use".
      const mountedElsewhere: Array<{ source: string }> = await this.ds.query(
        `SELECT DISTINCT m->>'source' AS source FROM applications a, jsonb_array_elements(a.spec->'mounts') m
          WHERE a.environment_id = $1 AND a.id <> $2 AND m->>'type' = 'volume'`,
        [app.environmentId, app.id],
      );
      const shared = new Set(mountedElsewhere.map((r) => r.source));
      const owner = { 'wharf.install': install, 'wharf.environment': app.environmentId, 'wharf.service': app.id };
      for (const v of engineVolumesOf(install, app)) {
        if (shared.has(v.name)) {
          volumesKept.push(v.name);
          continue;
        }
        for (let attempt = 0; ; attempt++) {
          try {
            const r = await this.swarm.removeVolume(v.engineName, owner);
            if (r === 'removed') volumes.push(v.name);
            else if (r === 'not-owned') volumesKept.push(v.name);
            break;
          } catch (e) {
            if (attempt >= 40) throw e;
            await new Promise((r) => setTimeout(r, 500));
          }
        }
      }
    }
    await this.tx.run(async (m, stage) => {
      await m.delete(ApplicationEntity, { id: app.id });
      await stage({ type: 'application.deleted', organizationId: app.organizationId, actor: SYSTEM_ACTOR, subject: { type: 'application', id: app.id, name: app.name }, payload: { volumesRemoved: volumes } }, { changes: { serviceRemoved: !!service, volumesRemoved: volumes, ...(volumesKept.length ? { volumesKept } : {}) } });
    });
    return { removed: true };
  }
}
