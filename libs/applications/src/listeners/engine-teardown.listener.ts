import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DomainEventOf, JobProducer, OnDomainEvent } from '@wharf/core';
import { QueuedTeardown, recordTeardownQueued } from '../teardowns/teardowns';

/** A deployment still running when its parent was deleted may create its service after the first pass: look again. */
export const TEARDOWN_SECOND_PASS_MS = 2 * 60_000;

/**
 * Deleting an organization, project or environment removes its rows by SQL cascade; its Swarm services and networks
 * are removed by the worker (`engine.teardown`, found by this install's labels), and its named volumes too when the
 * deletion asked for it (`removeVolumes`). Idempotent: deterministic job ids. Each teardown gets its `teardowns` row
 * (queued) before it is enqueued, which the worker keeps up to date for the portal; an organization's row keeps the
 * deleted organization's id (no one can read it through the API any more, but it records what was removed).
 */
@Injectable()
export class EngineTeardownListener {
  constructor(
    private readonly jobs: JobProducer,
    private readonly ds: DataSource,
  ) {}

  @OnDomainEvent('environment.deleted')
  async environmentDeleted(e: DomainEventOf<'environment.deleted'>): Promise<void> {
    const removeVolumes = e.payload.removeVolumes === true;
    await this.teardown({ organizationId: e.organizationId!, projectId: e.payload.projectId, scope: 'environment', subjectId: e.payload.environmentId, subjectName: e.subject.name ?? '', removeVolumes });
  }

  @OnDomainEvent('project.deleted')
  async projectDeleted(e: DomainEventOf<'project.deleted'>): Promise<void> {
    const removeVolumes = e.payload.removeVolumes === true;
    await this.teardown({ organizationId: e.organizationId!, projectId: e.payload.projectId, scope: 'project', subjectId: e.payload.projectId, subjectName: e.subject.name ?? '', removeVolumes });
  }

  @OnDomainEvent('organization.deleted')
  async organizationDeleted(e: DomainEventOf<'organization.deleted'>): Promise<void> {
    const removeVolumes = e.payload.removeVolumes === true;
    if (e.subject.id) await this.teardown({ organizationId: e.subject.id, projectId: null, scope: 'organization', subjectId: e.subject.id, subjectName: e.subject.name ?? '', removeVolumes });
  }

  private async teardown(t: QueuedTeardown): Promise<void> {
    const { scope, subjectId: id, removeVolumes } = t;
    if (t.organizationId) await recordTeardownQueued(this.ds, t);
    const payload = { v: 1, scope, id, removeVolumes } as const;
    const opts = { attempts: 10, backoff: { type: 'exponential', delay: 3000 } };
    await this.jobs.enqueue('engine.teardown', payload, { ...opts, jobId: `teardown:${scope}:${id}` });
    await this.jobs.enqueue('engine.teardown', payload, { ...opts, jobId: `teardown:${scope}:${id}:again`, delay: TEARDOWN_SECOND_PASS_MS });
  }
}
