import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { JobRegistry } from './jobs/job-registry';
import { OutboxMaintenance } from './jobs/outbox-maintenance';

/** The worker role: job processors. Imported by the `worker` and `all` roles only. */
@Module({
  imports: [DiscoveryModule],
  providers: [JobRegistry, OutboxMaintenance],
})
export class WorkerModule {}
