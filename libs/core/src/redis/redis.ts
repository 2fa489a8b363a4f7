import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { RateLimitedError } from '../errors/domain-error';
import { WHARF_CONFIG, WharfConfig } from '../config/config';

export const REDIS = Symbol('REDIS');

@Injectable()
export class RedisCloser implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}
  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/** Fixed-window counters in Redis (login attempts per account and per IP). */
@Injectable()
export class RateLimiter {
  constructor(@Inject(REDIS) private readonly redis: Redis, @Inject(WHARF_CONFIG) private readonly config: WharfConfig) {}

  async assertUnder(key: string, limit: number): Promise<void> {
    const n = Number((await this.redis.get(`${this.config.queuePrefix}:rl:${key}`)) ?? 0);
    if (n >= limit) throw new RateLimitedError('Too many failed attempts; try again later');
  }

  async hit(key: string, windowSeconds: number): Promise<number> {
    const k = `${this.config.queuePrefix}:rl:${key}`;
    const [[, n]] = (await this.redis.multi().incr(k).expire(k, windowSeconds, 'NX').exec()) as [[null, number], unknown];
    return n;
  }

  /** True the first time a key is claimed within `ttlSeconds` (single-use tokens, TOTP replay protection). */
  async claimOnce(key: string, ttlSeconds: number): Promise<boolean> {
    return (await this.redis.set(`${this.config.queuePrefix}:once:${key}`, '1', 'EX', ttlSeconds, 'NX')) === 'OK';
  }

  async reset(key: string): Promise<void> {
    await this.redis.del(`${this.config.queuePrefix}:rl:${key}`);
  }
}
