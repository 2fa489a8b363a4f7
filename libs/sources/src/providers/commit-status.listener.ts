import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DomainEventOf, JobProducer, OnDomainEvent } from '@wharf/core';

const STATE = { 'deployment.started': 'pending', 'deployment.succeeded': 'success', 'deployment.failed': 'failure' } as const;

/**
 * Commit statuses: when a deployment of an application whose Git source uses a provider connection starts, succeeds
 * or fails, the worker posts pending/success/failure to the provider (job `git-provider.commit-status`). Deployments
 * of other applications enqueue nothing.
 */
@Injectable()
export class CommitStatusListener {
  constructor(private readonly jobs: JobProducer, private readonly ds: DataSource) {}

  @OnDomainEvent('deployment.started', 'deployment.succeeded', 'deployment.failed')
  async deploymentChanged(e: DomainEventOf<'deployment.started' | 'deployment.succeeded' | 'deployment.failed'>): Promise<void> {
    const deploymentId = e.subject.id;
    if (!deploymentId) return;
    const used = await this.ds.query(`SELECT 1 FROM application_sources WHERE application_id = $1 AND provider_id IS NOT NULL`, [e.payload.applicationId]);
    if (!used.length) return;
    const state = STATE[e.type];
    await this.jobs.enqueue('git-provider.commit-status', { v: 1, deploymentId, state }, { jobId: `commit-status:${deploymentId}:${state}`, attempts: 2, backoff: { type: 'exponential', delay: 5000 }, removeOnComplete: 100, removeOnFail: 100 });
  }
}
