import { Injectable } from '@nestjs/common';
import { DomainEventOf, OnDomainEvent } from '@wharf/core';
import { DeploymentScheduler } from '../commands/deployment.commands';

/**
 * Starts the next queued deployment of an application when one is queued or the running one ended. `kick` is
 * idempotent (it enqueues the head of the queue with jobId = deploymentId, and only when nothing runs).
 */
@Injectable()
export class DeploymentQueueListener {
  constructor(private readonly scheduler: DeploymentScheduler) {}

  @OnDomainEvent('deployment.queued', 'deployment.succeeded', 'deployment.failed', 'deployment.cancelled', 'deployment.superseded')
  async scheduleNext(e: DomainEventOf<'deployment.queued' | 'deployment.succeeded' | 'deployment.failed' | 'deployment.cancelled' | 'deployment.superseded'>): Promise<void> {
    await this.scheduler.kick(e.payload.applicationId);
  }
}
