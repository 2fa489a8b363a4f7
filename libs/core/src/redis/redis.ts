import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { RateLimitedError } from '../errors/domain-error';
import { WHARF_CONFIG, WharfConfig } from '../config/config';

export const REDIS = Symbol('REDIS');

@Injectable()
export class RedisCloser implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}
  async onApplicationShutdown(): Promise<void> {
    await quitRedis(this.redis);
  }
}

/**
 * Closes a connection politely (QUIT, so replies in flight arrive) but never waits longer than `ms`: with Redis down,
 * QUIT sits in the client's offline queue until Redis comes back, which held shutdowns for as long as the outage.
 * After the deadline the connection is dropped.
 */
export async function quitRedis(client: Pick<Redis, 'quit' | 'disconnect' | 'status'>, ms = 2000): Promise<void> {
  if (client.status === 'end') return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), ms)));
  try {
    const outcome = await Promise.race([client.quit().then(() => 'quit' as const, () => 'failed' as const), late]);
    if (outcome !== 'quit') client.disconnect();
  } finally {
    clearTimeout(timer);
  }
}

// KEYS: counters; ARGV: limit and window (ms) per key. Returns {1, 0} after counting, or {0, pttl} of the first full key.
const CONSUME_SCRIPT = `
for i = 1, #KEYS do
  local n = tonumber(redis.call('GET', KEYS[i]) or '0')
  if n >= tonumber(ARGV[2 * i - 1]) then
    local ttl = redis.call('PTTL', KEYS[i])
    if ttl < 0 then ttl = tonumber(ARGV[2 * i]) end
    return {0, ttl}
  end
end
for i = 1, #KEYS do
  if redis.call('INCR', KEYS[i]) == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[2 * i]) end
end
return {1, 0}`;

const RELEASE_SCRIPT = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 1 then return redis.call('DECR', KEYS[1]) end
redis.call('DEL', KEYS[1])
return 0`;

/** Fixed-window counters in Redis (login attempts per account and per IP). */
@Injectable()
export class RateLimiter {
  constructor(@Inject(REDIS) private readonly redis: Redis, @Inject(WHARF_CONFIG) private readonly config: WharfConfig) {}

  /**
   * Counts one attempt against every limit at once, atomically and before the attempt's work is done (a Lua script):
   * when any counter is already at its limit nothing is counted and a RateLimitedError carries the seconds until that
   * window ends (Retry-After). N concurrent attempts can therefore never pass more than the limit.
   */
  async consume(limits: Array<{ key: string; limit: number; windowSeconds: number }>, message?: string): Promise<void> {
    const keys = limits.map((l) => `${this.config.queuePrefix}:rl:${l.key}`);
    const args = limits.flatMap((l) => [String(l.limit), String(l.windowSeconds * 1000)]);
    const [ok, pttl] = (await this.redis.eval(CONSUME_SCRIPT, keys.length, ...keys, ...args)) as [number, number];
    if (!ok) throw new RateLimitedError(message ?? 'Too many failed attempts; try again later', Math.max(1, Math.ceil(pttl / 1000)));
  }

  /** Gives back one counted attempt (e.g. a sign-in that turned out to be the right password). */
  async release(key: string): Promise<void> {
    const k = `${this.config.queuePrefix}:rl:${key}`;
    await this.redis.eval(RELEASE_SCRIPT, 1, k);
  }

  async assertUnder(key: string, limit: number): Promise<void> {
    const k = `${this.config.queuePrefix}:rl:${key}`;
    const n = Number((await this.redis.get(k)) ?? 0);
    if (n >= limit) throw new RateLimitedError('Too many failed attempts; try again later', Math.max(1, Math.ceil((await this.redis.pttl(k)) / 1000)));
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
