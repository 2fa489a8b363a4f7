import { DynamicModule, Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { SecretBox } from './crypto/secret-box';
import { WHARF_CONFIG, WharfConfig } from './config/config';
import { TransactionRunner } from './database/transactions';
import Redis from 'ioredis';
import { RateLimiter, REDIS, RedisCloser } from './redis/redis';
import { JobProducer } from './queue/job-producer';
import { WorkerRpcClient } from './rpc/worker-rpc';
import { DomainEventListeners } from './events/domain-event-listeners';
import { LiveEventFanout, LiveEventHub } from './events/live-events';

/** Configuration (validated once, before Nest starts), the secret box and the unit of work, available everywhere. */
@Global()
@Module({})
export class CoreModule {
  static forRoot(config: WharfConfig): DynamicModule {
    return {
      module: CoreModule,
      imports: [DiscoveryModule],
      providers: [
        DomainEventListeners,
        { provide: WHARF_CONFIG, useValue: config },
        { provide: SecretBox, useValue: new SecretBox(config.secretKeyId, config.secretKeys) },
        TransactionRunner,
        { provide: REDIS, useFactory: () => new Redis(config.redisUrl, { maxRetriesPerRequest: 2 }) },
        RedisCloser,
        RateLimiter,
        JobProducer,
        WorkerRpcClient,
        LiveEventFanout,
        LiveEventHub,
      ],
      exports: [DomainEventListeners, WHARF_CONFIG, SecretBox, TransactionRunner, REDIS, RateLimiter, JobProducer, WorkerRpcClient, LiveEventHub],
    };
  }
}
