import { Controller, Get, Headers, Inject, Res } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { QUEUES } from '@wharf/contracts';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { NotFoundError, UnauthenticatedError, WHARF_CONFIG, WharfConfig, safeEqual } from '@wharf/core';
import { Public } from '../common/public.decorator';
import { queueDepth, registry } from './metrics';

/** Prometheus metrics. Off unless WHARF_METRICS_TOKEN is set; then the token is required as a Bearer header. */
@ApiExcludeController()
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(WHARF_CONFIG) private readonly config: WharfConfig, private readonly moduleRef: ModuleRef) {}

  private async sampleQueues(): Promise<void> {
    for (const name of Object.values(QUEUES)) {
      const queue = this.moduleRef.get<Queue>(getQueueToken(name), { strict: false });
      const counts = await queue.getJobCounts();
      for (const [state, n] of Object.entries(counts)) queueDepth.set({ queue: name, state }, n);
    }
  }

  @Get()
  async metrics(@Headers('authorization') auth: string | undefined, @Res() res: Response): Promise<void> {
    if (!this.config.metricsToken) throw new NotFoundError('Route');
    if (!auth || !safeEqual(auth, `Bearer ${this.config.metricsToken}`)) throw new UnauthenticatedError('A valid metrics token is required');
    await this.sampleQueues().catch(() => undefined);
    res.type(registry.contentType).send(await registry.metrics());
  }
}
