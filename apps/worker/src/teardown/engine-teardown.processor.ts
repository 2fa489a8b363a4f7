import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { Job } from 'bull';
import { DataSource } from 'typeorm';
import { TeardownProgress } from '@wharf/applications';
import type { JobPayloads } from '@wharf/contracts';
import { JobHandler } from '@wharf/core';
import { SWARM_PORT, SwarmPort } from '@wharf/orchestration';
import { ApplicationRouting } from '../routing/application-routing';
import { EdgeProxy } from '../edge/edge-proxy';

/** How long a network removal is retried while the removed services' tasks still hold endpoints on it. */
const NETWORK_RELEASE_MS = 60_000;
/** How long a volume removal is retried while the removed services' containers still use it ("in use", 409). */
const VOLUME_RELEASE_MS = 60_000;

/**
 * Tears down the engine objects of a deleted organization, project or environment: every Swarm service, then every
 * overlay network, that carries this install's `wharf.install` label and `wharf.<scope>` = id; with `removeVolumes`,
 * then every named volume carrying the same labels. Objects of another install (or without our labels, such as the
 * legacy volumes kept by migration 1764100009000) are never touched. Idempotent: a second run removes nothing.
 * Its progress goes to the teardown's row (TeardownProgress): running, then what it removed or why it failed.
 */
@Injectable()
export class EngineTeardownProcessor {
  private readonly logger = new Logger('Teardown');
  constructor(
    private readonly ds: DataSource,
    @Inject(SWARM_PORT) private readonly swarm: SwarmPort,
    private readonly progress: TeardownProgress,
    @Optional() private readonly routing?: ApplicationRouting,
    @Optional() private readonly edge?: EdgeProxy,
  ) {}

  @JobHandler('engine.teardown')
  async teardown(payload: JobPayloads['engine.teardown'], job?: Pick<Job, 'attemptsMade' | 'opts'>): Promise<{ services: string[]; networks: string[]; volumes: string[] }> {
    await this.progress.started(payload.scope, payload.id);
    try {
      const removed = await this.removeAll(payload);
      await this.progress.succeeded(payload.scope, payload.id, removed);
      return removed;
    } catch (e) {
      // Bull tries again until its attempts are used up; only the last failure is final.
      const final = !job || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      await this.progress.failed(payload.scope, payload.id, (e as Error)?.message ?? String(e), final).catch((err: Error) => this.logger.warn(`recording the failure of ${payload.scope} ${payload.id}: ${err.message}`));
      throw e;
    }
  }

  private async removeAll(payload: JobPayloads['engine.teardown']): Promise<{ services: string[]; networks: string[]; volumes: string[] }> {
    const [{ install_id: install }]: Array<{ install_id: string }> = await this.ds.query(`SELECT install_id FROM instance WHERE id = 1`);
    const owned = { 'wharf.install': install, [`wharf.${payload.scope}`]: payload.id };
    const isOwned = (labels: Record<string, string>): boolean => Object.entries(owned).every(([k, v]) => labels[k] === v);

    const services: string[] = [];
    for (const s of await this.swarm.listServices(owned)) {
      if (!isOwned(s.labels)) continue;
      // The application's routing file goes with its service (its domain rows went with the deleted scope).
      const applicationId = s.labels['wharf.service'];
      if (this.routing && applicationId && /^[0-9a-f-]{36}$/.test(applicationId)) await this.routing.remove(applicationId);
      await this.swarm.removeService(s.id);
      services.push(s.name);
    }
    if (services.length) await this.progress.removedSoFar(payload.scope, payload.id, { services, networks: [], volumes: [] });

    // Networks carry the organization and environment labels (not the project's): a project's networks go with the
    // `environment.deleted` events its deletion stages for each environment.
    const networks: string[] = [];
    if (payload.scope !== 'project') {
      // An organization's edge network is on the Traefik service: take it off first, or the engine refuses to remove it.
      if (payload.scope === 'organization') await this.edge?.detachOrganization(install, payload.id);
      for (const n of await this.swarm.listNetworks(owned)) {
        if (!isOwned(n.labels)) continue;
        if ((await this.removeNetworkWhenReleased(n.id, owned)) === 'removed') networks.push(n.name);
      }
      if (networks.length) await this.progress.removedSoFar(payload.scope, payload.id, { services, networks, volumes: [] });
    }
    // Volumes carry all three scope labels (see volumeLabels). Their services are gone now; their containers follow.
    const volumes: string[] = [];
    if (payload.removeVolumes === true) {
      for (const v of await this.swarm.listVolumes(owned)) {
        if (!isOwned(v.labels)) continue;
        if ((await this.removeVolumeWhenReleased(v.name, owned)) === 'removed') volumes.push(v.name);
      }
    }
    if (services.length || networks.length || volumes.length) {
      this.logger.log(`${payload.scope} ${payload.id}: removed services [${services.join(', ')}], networks [${networks.join(', ')}], volumes [${volumes.join(', ')}]`);
    }
    return { services, networks, volumes };
  }

  /** The engine refuses to remove a volume a container still uses (409 "in use") until the container is gone. */
  private async removeVolumeWhenReleased(name: string, owner: Record<string, string>): Promise<'removed' | 'missing' | 'not-owned'> {
    const deadline = Date.now() + VOLUME_RELEASE_MS;
    for (let delay = 200; ; delay = Math.min(delay * 2, 2000)) {
      try {
        return await this.swarm.removeVolume(name, owner);
      } catch (e) {
        if ((e as { statusCode?: number }).statusCode !== 409 || Date.now() + delay > deadline) throw e;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** A removed service's tasks leave the network a moment later; until then the engine refuses the removal. */
  private async removeNetworkWhenReleased(id: string, owner: Record<string, string>): Promise<'removed' | 'missing' | 'not-owned'> {
    const deadline = Date.now() + NETWORK_RELEASE_MS;
    for (let delay = 200; ; delay = Math.min(delay * 2, 2000)) {
      try {
        return await this.swarm.removeNetwork(id, owner);
      } catch (e) {
        if (Date.now() + delay > deadline) throw e;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
}
