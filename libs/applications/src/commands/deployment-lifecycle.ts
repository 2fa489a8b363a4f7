import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { TransactionRunner } from '@wharf/core';
import { SYSTEM_ACTOR } from '@wharf/tenancy';
import { DeploymentEntity } from '../entities/deployment.entity';
import { appendLog } from './deployment.commands';

export type FinishOutcome = 'succeeded' | 'failed' | 'cancelled';

/**
 * The worker's only way to change a deployment: every transition runs in a transaction that stages its event (audit
 * log, notifications), and is conditional on the caller still holding the lease.
 */
@Injectable()
export class DeploymentLifecycle {
  constructor(private readonly ds: DataSource, private readonly tx: TransactionRunner) {}

  /** Takes the lease of a queued deployment, or of a running one whose lease expired (its worker died). */
  async claim(deploymentId: string, workerId: string, leaseMs: number): Promise<{ deployment: DeploymentEntity; resumed: boolean } | null> {
    return this.tx.run(async (m, stage) => {
      const rows: Array<{ id: string; status: string; lease_owner: string | null }> = await m.query(
        `SELECT id, status, lease_owner FROM deployments WHERE id = $1 AND (status = 'queued' OR (status = 'running' AND (lease_expires_at IS NULL OR lease_expires_at < now()))) FOR UPDATE SKIP LOCKED`,
        [deploymentId],
      );
      if (!rows.length) return null;
      const resumed = rows[0].status === 'running';
      await m.query(
        `UPDATE deployments SET status = 'running', started_at = COALESCE(started_at, now()), lease_owner = $2, lease_expires_at = now() + ($3 || ' milliseconds')::interval, attempts = attempts + 1, version = version + 1 WHERE id = $1`,
        [deploymentId, workerId, String(leaseMs)],
      );
      const d = await m.findOneByOrFail(DeploymentEntity, { id: deploymentId });
      await appendLog(m, d.id, 'start', resumed ? 'warn' : 'info', resumed ? `Resumed by worker ${workerId} after the previous worker ${rows[0].lease_owner === null ? 'shut down and gave its lease up' : 'stopped renewing its lease'} (attempt ${d.attempts})` : `Started on worker ${workerId}`);
      await stage({ type: resumed ? 'deployment.resumed' : 'deployment.started', organizationId: d.organizationId, actor: SYSTEM_ACTOR, subject: { type: 'deployment', id: d.id }, payload: { applicationId: d.applicationId, kind: d.kind } });
      return { deployment: d, resumed };
    });
  }

  /**
   * Extends the lease while the caller still owns it and reads the cancel flag in the same statement, so a cancel is
   * seen within one renewal period even when its pub/sub message is lost (Redis outage). `lost`: another worker took
   * the deployment over, or it ended.
   */
  async renew(deploymentId: string, workerId: string, leaseMs: number): Promise<'held' | 'cancel-requested' | 'lost'> {
    const [rows]: [Array<{ cancel_requested_at: Date | null }>, number] = await this.ds.query(
      `UPDATE deployments SET lease_expires_at = now() + ($3 || ' milliseconds')::interval WHERE id = $1 AND lease_owner = $2 AND status = 'running' RETURNING cancel_requested_at`,
      [deploymentId, workerId, String(leaseMs)],
    );
    if (!rows.length) return 'lost';
    return rows[0].cancel_requested_at ? 'cancel-requested' : 'held';
  }

  /**
   * Gives the lease up at once (a worker shutting down mid-run): the deployment stays `running` with no lease owner, and
   * the next watchdog sweep, here or on another worker, hands it to a worker that resumes it, instead of waiting for the
   * lease to expire.
   */
  async release(deploymentId: string, workerId: string): Promise<boolean> {
    const [rows]: [Array<{ id: string }>, number] = await this.ds.query(
      `UPDATE deployments SET lease_expires_at = now(), lease_owner = NULL WHERE id = $1 AND lease_owner = $2 AND status = 'running' RETURNING id`,
      [deploymentId, workerId],
    );
    return rows.length > 0;
  }

  /**
   * Fencing: run right before every engine change (create, update, restore). True only while the caller owns an
   * unexpired lease, which it extends in the same statement, so no other worker can claim the deployment while the
   * change is made. False means the change must not happen: a worker paused past its lease may have been replaced.
   */
  async fence(deploymentId: string, workerId: string, leaseMs: number): Promise<boolean> {
    const [rows]: [Array<{ id: string }>, number] = await this.ds.query(
      `UPDATE deployments SET lease_expires_at = now() + ($3 || ' milliseconds')::interval
        WHERE id = $1 AND lease_owner = $2 AND status = 'running' AND lease_expires_at > now() RETURNING id`,
      [deploymentId, workerId, String(leaseMs)],
    );
    return rows.length > 0;
  }

  /** The application's last succeeded deployment other than `exceptId`: what a failure or cancel restores. */
  async lastSucceeded(applicationId: string, exceptId: string): Promise<DeploymentEntity | null> {
    const rows = await this.ds.getRepository(DeploymentEntity).find({ where: { applicationId, status: 'succeeded' }, order: { finishedAt: 'DESC' }, take: 2 });
    return rows.find((r) => r.id !== exceptId) ?? null;
  }

  async isCancelRequested(deploymentId: string): Promise<boolean> {
    const [row] = await this.ds.query(`SELECT cancel_requested_at FROM deployments WHERE id = $1`, [deploymentId]);
    return !!row?.cancel_requested_at;
  }

  async recordDigest(deploymentId: string, digest: string): Promise<void> {
    await this.ds.query(`UPDATE deployments SET image_digest = $2 WHERE id = $1`, [deploymentId, digest]);
  }

  /**
   * Appends a line to the deployment's log. With `workerId`, only while that worker still owns the deployment: a
   * worker that stalled past its lease cannot add lines to a deployment another worker took over or finished.
   */
  async log(deploymentId: string, step: string, level: 'info' | 'warn' | 'error', message: string, workerId?: string): Promise<void> {
    if (!workerId) return appendLog(this.ds.manager, deploymentId, step, level, message);
    await this.ds.query(
      `INSERT INTO deployment_logs (deployment_id, step, level, message)
       SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM deployments WHERE id = $1 AND lease_owner = $5 AND status = 'running')`,
      [deploymentId, step, level, message.slice(0, 8000), workerId],
    );
  }

  /**
   * Appends several lines at once, in the given order (one statement: lines that queued up while an earlier write ran
   * cost one round trip), only while `workerId` still owns the deployment, like `log`.
   */
  async logMany(deploymentId: string, lines: ReadonlyArray<{ step: string; level: 'info' | 'warn' | 'error'; message: string }>, workerId: string): Promise<void> {
    if (lines.length === 0) return;
    await this.ds.query(
      `INSERT INTO deployment_logs (deployment_id, step, level, message)
       SELECT $1, l.step, l.level, l.message FROM unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS l(step, level, message, n)
        WHERE EXISTS (SELECT 1 FROM deployments WHERE id = $1 AND lease_owner = $5 AND status = 'running')
        ORDER BY l.n`,
      [deploymentId, lines.map((l) => l.step), lines.map((l) => l.level), lines.map((l) => l.message.slice(0, 8000)), workerId],
    );
  }

  async finish(deploymentId: string, workerId: string | null, outcome: FinishOutcome, error: string | null, extra: Record<string, unknown> = {}): Promise<boolean> {
    return this.tx.run(async (m, stage) => {
      const [r]: [Array<{ id: string }>, number] = await m.query(
        `UPDATE deployments SET status = $3, error = $4, finished_at = now(), lease_owner = NULL, lease_expires_at = NULL, version = version + 1
          WHERE id = $1 AND status = 'running' AND ($2::text IS NULL OR lease_owner = $2) RETURNING id`,
        [deploymentId, workerId, outcome, error?.slice(0, 4000) ?? null],
      );
      if (!r.length) return false;
      const d = await m.findOneByOrFail(DeploymentEntity, { id: deploymentId });
      await appendLog(m, d.id, 'finish', outcome === 'succeeded' ? 'info' : outcome === 'cancelled' ? 'warn' : 'error', outcome === 'succeeded' ? 'Deployment succeeded' : `Deployment ${outcome}${error ? `: ${error}` : ''}`);
      await stage(
        { type: `deployment.${outcome}`, organizationId: d.organizationId, actor: SYSTEM_ACTOR, subject: { type: 'deployment', id: d.id }, payload: { applicationId: d.applicationId, kind: d.kind, error, ...extra } },
        { outcome: outcome === 'failed' ? 'failed' : 'succeeded', changes: { status: outcome, ...(error ? { error } : {}), ...extra } },
      );
      if (extra.rolledBack === true) {
        await stage(
          { type: 'deployment.rolled-back', organizationId: d.organizationId, actor: SYSTEM_ACTOR, subject: { type: 'deployment', id: d.id }, payload: { applicationId: d.applicationId } },
          { changes: { restored: typeof extra.restoredDeployment === 'string' ? `deployment ${extra.restoredDeployment}` : 'previous service spec' } },
        );
      }
      return true;
    });
  }
}
