import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bull';
import type { JobOptions, Queue } from 'bull';
import { JOB_QUEUES, JobName, JobPayloads } from '@wharf/contracts';

/** Typed producer for every queue: the job name decides the queue; payloads carry ids only. */
@Injectable()
export class JobProducer {
  private readonly queues = new Map<string, Queue>();
  constructor(private readonly moduleRef: ModuleRef) {}

  queue(name: string): Queue {
    let q = this.queues.get(name);
    if (!q) {
      q = this.moduleRef.get<Queue>(getQueueToken(name), { strict: false });
      this.queues.set(name, q);
    }
    return q;
  }

  async enqueue<N extends JobName>(name: N, payload: JobPayloads[N], opts: JobOptions = {}): Promise<void> {
    await this.queue(JOB_QUEUES[name]).add(name, payload, { removeOnComplete: true, removeOnFail: true, ...opts });
  }

  /** Removes a waiting or delayed job by id (no-op when it is running or absent). */
  async removeWaiting(name: JobName, jobId: string): Promise<boolean> {
    const job = await this.queue(JOB_QUEUES[name]).getJob(jobId);
    if (!job) return false;
    const state = await job.getState();
    if (state === 'waiting' || state === 'delayed' || state === 'paused') {
      await job.remove();
      return true;
    }
    return false;
  }
}
