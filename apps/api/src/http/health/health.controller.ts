import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import Redis from 'ioredis';
import { Public } from '../common/public.decorator';
import { REDIS } from '@wharf/core';

export class LiveDto {
  @ApiProperty({ enum: ['ok'] }) status: 'ok';
}

@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly indicator: HealthIndicatorService,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  /** The process is up. */
  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process is up' })
  @ApiOkResponse({ type: LiveDto })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** PostgreSQL and Redis answer. */
  @Get('ready')
  @ApiOperation({ summary: 'Readiness: PostgreSQL and Redis answer (503 otherwise)' })
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.db.pingCheck('postgres', { timeout: 2000 }),
      async () => {
        const i = this.indicator.check('redis');
        let timer: NodeJS.Timeout | undefined;
        try {
          const timeout = new Promise<string>((_, rej) => (timer = setTimeout(() => rej(new Error('timeout')), 2000)));
          const pong = await Promise.race([this.redis.ping(), timeout]);
          return pong === 'PONG' ? i.up() : i.down({ message: pong });
        } catch (e) {
          return i.down({ message: (e as Error).message });
        } finally {
          clearTimeout(timer);
        }
      },
    ]);
  }
}
