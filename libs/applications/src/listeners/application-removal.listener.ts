import { Injectable } from '@nestjs/common';
import { DomainEventOf, JobProducer, OnDomainEvent } from '@wharf/core';

/**
 * A requested application deletion gets its removal job even when the process stopped between the commit and the
 * handler's own enqueue (same jobId, so the usual case enqueues once).
 */
@Injectable()
export class ApplicationRemovalListener {
  constructor(private readonly jobs: JobProducer) {}

  @OnDomainEvent('application.delete-requested')
  async deleteRequested(e: DomainEventOf<'application.delete-requested'>): Promise<void> {
    if (!e.subject.id) return;
    await this.jobs.enqueue('application.remove', { v: 1, applicationId: e.subject.id, removeVolumes: e.payload.removeVolumes }, { jobId: `remove:${e.subject.id}`, attempts: 10, backoff: { type: 'exponential', delay: 3000 } });
  }
}
