import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ApplicationEntity, installId } from '@wharf/applications';
import { JobHandler } from '@wharf/core';
import { SWARM_PORT, SwarmPort, TaskInfo } from '@wharf/orchestration';

interface Drift {
  code: 'service-missing' | 'image-changed' | 'replicas-changed' | 'changed-outside-wharf';
  message: string;
}

/**
 * Compares what the database says should run with the Swarm services labelled with this install's id, and keeps the
 * runtime table (state, tasks, drift) current. It reports; it never deletes or changes a service.
 */
@Injectable()
export class RuntimeReconciler implements OnApplicationBootstrap {
  private readonly logger = new Logger('Reconciler');
  constructor(private readonly ds: DataSource, @Inject(SWARM_PORT) private readonly swarm: SwarmPort) {}

  onApplicationBootstrap(): void {
    void this.observeServer();
  }

  @JobHandler('runtime.reconcile')
  async reconcile(payload: { applicationId?: string } = {}): Promise<{ applications: number; orphans: number }> {
    if (payload.applicationId) {
      await this.reconcileApplication(payload.applicationId);
      return { applications: 1, orphans: 0 };
    }
    await this.observeServer();
    const install = await installId(this.ds.manager);
    const services = await this.swarm.listServices({ 'wharf.install': install });
    const apps = await this.ds.getRepository(ApplicationEntity).find();
    for (const app of apps) await this.reconcileApplication(app.id, services.find((s) => s.name === app.serviceName) ?? null);
    const known = new Set(apps.map((a) => a.serviceName));
    // Wharf's own services (the edge proxy: `wharf.role`) are no application's.
    const orphans = services.filter((s) => !known.has(s.name) && !s.labels['wharf.role']);
    if (orphans.length) this.logger.warn(`services labelled with this install but unknown to the database (left alone): ${orphans.map((o) => o.name).join(', ')}`);
    return { applications: apps.length, orphans: orphans.length };
  }

  async observeServer(): Promise<void> {
    try {
      const caps = await this.swarm.hostCapabilities();
      const status = caps.swarmActive ? 'ready' : 'swarm-inactive';
      const message = caps.ipvs ? null : 'No IPVS in this kernel: the routing mesh and VIP discovery do not work; Wharf uses dnsrr endpoints and host-mode ports';
      await this.ds.query(`UPDATE servers SET capabilities = $1, status = $2, status_message = $3, observed_at = now() WHERE kind = 'local'`, [JSON.stringify(caps), status, message]);
    } catch (e) {
      await this.ds.query(`UPDATE servers SET status = 'unreachable', status_message = $1, observed_at = now() WHERE kind = 'local'`, [(e as Error).message]);
    }
  }

  async reconcileApplication(applicationId: string, known?: Awaited<ReturnType<SwarmPort['inspectService']>> | null): Promise<void> {
    const app = await this.ds.getRepository(ApplicationEntity).findOneBy({ id: applicationId });
    if (!app) return;
    const [server] = await this.ds.query(`SELECT observed_at FROM servers WHERE id = $1`, [app.serverId]);
    if (server && !server.observed_at) await this.observeServer();
    const service = known !== undefined ? known : await this.swarm.inspectService(app.serviceName);
    const [last] = await this.ds.query(
      `SELECT id, snapshot->>'image' AS image, image_digest, (snapshot->>'replicas')::int AS replicas FROM deployments WHERE application_id = $1 AND status = 'succeeded' ORDER BY finished_at DESC LIMIT 1`,
      [app.id],
    );
    const [active] = await this.ds.query(`SELECT 1 FROM deployments WHERE application_id = $1 AND status = 'running'`, [app.id]);
    const drift: Drift[] = [];
    let tasks: TaskInfo[] = [];
    let state: string;
    let running = 0;
    let desired = 0;
    if (!service && !last && !active) {
      // Never deployed (nothing succeeded, nothing running, no service): no runtime state, the screens say "not
      // deployed" rather than "missing".
      await this.ds.query(`DELETE FROM application_runtime WHERE application_id = $1`, [app.id]);
      return;
    }
    if (!service) {
      state = app.desiredState === 'stopped' ? 'stopped' : 'missing';
      if (last && app.desiredState === 'running') drift.push({ code: 'service-missing', message: `Service ${app.serviceName} does not exist in Swarm` });
    } else {
      tasks = (await this.swarm.serviceTasks(service.id)).filter((t) => t.desiredState === 'running' || t.state === 'running' || t.state === 'failed' || t.state === 'rejected').slice(0, 50);
      desired = service.replicas ?? 0;
      running = tasks.filter((t) => t.state === 'running' && t.desiredState === 'running').length;
      state = desired === 0 ? 'stopped' : running >= desired ? 'running' : 'degraded';
      if (last && !active) {
        if (service.labels['wharf.deployment'] && service.labels['wharf.deployment'] !== last.id && service.labels['wharf.deployment'] !== (await this.latestDeploymentId(app.id))) {
          drift.push({ code: 'changed-outside-wharf', message: `The service carries deployment ${service.labels['wharf.deployment']}, not the last one Wharf ran` });
        }
        if (last.replicas !== null && desired !== last.replicas) drift.push({ code: 'replicas-changed', message: `Replicas are ${desired}; Wharf deployed ${last.replicas}` });
        const pinned = last.image_digest as string | null;
        if (service.image !== last.image && !(pinned && (service.image === pinned || service.image.endsWith(pinned.split('@')[1] ?? '\u0000')))) {
          if (!service.image.startsWith(String(last.image).split('@')[0])) drift.push({ code: 'image-changed', message: `Image is ${service.image}; Wharf deployed ${last.image}` });
        }
      }
    }
    if (active) state = 'deploying';
    const view = tasks.map((t) => ({ id: t.id, slot: t.slot ?? null, node: t.nodeId ?? null, state: t.state, desiredState: t.desiredState, error: t.error ?? null, message: t.message ?? null, exitCode: t.exitCode ?? null, ports: t.ports, health: t.health?.status ?? null, updatedAt: t.timestamp ?? t.updatedAt ?? null }));
    await this.ds.query(
      `INSERT INTO application_runtime (application_id, organization_id, service_id, state, running, desired, tasks, drift, observed_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())
       ON CONFLICT (application_id) DO UPDATE SET service_id = $3, state = $4, running = $5, desired = $6, tasks = $7, drift = $8, observed_at = now()`,
      [app.id, app.organizationId, service?.id ?? null, state, running, desired, JSON.stringify(view), JSON.stringify(drift)],
    );
  }

  private async latestDeploymentId(applicationId: string): Promise<string | null> {
    const [row] = await this.ds.query(`SELECT id FROM deployments WHERE application_id = $1 AND status IN ('succeeded', 'failed', 'cancelled') ORDER BY finished_at DESC LIMIT 1`, [applicationId]);
    return row?.id ?? null;
  }
}
