import { Inject, Injectable, OnApplicationShutdown, Provider } from '@nestjs/common';
import Redis from 'ioredis';
import { WHARF_CONFIG, WharfConfig } from '@wharf/core';

export const REDIS = Symbol('REDIS');

@Injectable()
export class RedisCloser implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}
  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/** One shared Redis client for rate limits and health (queues keep their own connections). */
export const redisProvider: Provider = {
  provide: REDIS,
  inject: [WHARF_CONFIG],
  useFactory: (c: WharfConfig) => new Redis(c.redisUrl, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false }),
};
