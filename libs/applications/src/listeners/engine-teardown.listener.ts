import { Injectable } from '@nestjs/common';
import { DomainEventOf, JobProducer, OnDomainEvent } from '@wharf/core';
import type { JobPayloads } from '@wharf/contracts';

/** A deployment still running when its parent was deleted may create its service after the first pass: look again. */
export const TEARDOWN_SECOND_PASS_MS = 2 * 60_000;

/**
 * Deleting an organization, project or environment removes its rows by SQL cascade; its Swarm services and networks
 * are removed by the worker (`engine.teardown`, found by this install's labels), and its named volumes too when the
 * deletion asked for it (`removeVolumes`). Idempotent: deterministic job ids.
 */
@Injectable()
export class EngineTeardownListener {
  constructor(private readonly jobs: JobProducer) {}

  @OnDomainEvent('environment.deleted')
  async environmentDeleted(e: DomainEventOf<'environment.deleted'>): Promise<void> {
    await this.teardown('environment', e.payload.environmentId, e.payload.removeVolumes === true);
  }

  @OnDomainEvent('project.deleted')
  async projectDeleted(e: DomainEventOf<'project.deleted'>): Promise<void> {
    await this.teardown('project', e.payload.projectId, e.payload.removeVolumes === true);
  }

  @OnDomainEvent('organization.deleted')
  async organizationDeleted(e: DomainEventOf<'organization.deleted'>): Promise<void> {
    if (e.subject.id) await this.teardown('organization', e.subject.id, e.payload.removeVolumes === true);
  }

  private async teardown(scope: JobPayloads['engine.teardown']['scope'], id: string, removeVolumes: boolean): Promise<void> {
    const payload = { v: 1, scope, id, removeVolumes } as const;
    const opts = { attempts: 10, backoff: { type: 'exponential', delay: 3000 } };
    await this.jobs.enqueue('engine.teardown', payload, { ...opts, jobId: `teardown:${scope}:${id}` });
    await this.jobs.enqueue('engine.teardown', payload, { ...opts, jobId: `teardown:${scope}:${id}:again`, delay: TEARDOWN_SECOND_PASS_MS });
  }
}
