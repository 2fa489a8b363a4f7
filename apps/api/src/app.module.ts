import { hostname } from 'node:os';
import { DynamicModule, Module, RequestMethod } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BullModule } from '@nestjs/bull';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule } from 'nestjs-pino';
import { CoreModule, WharfConfig, newId, UUID_RE } from '@wharf/core';
import { QUEUES } from '@wharf/contracts';
import { APP_DB_LIMITS, dataSourceOptions } from '../../../migrations/data-source';
import { ProblemFilter } from './http/common/problem.filter';
import { HealthController } from './http/health/health.controller';
import { MetricsController } from './http/metrics/metrics.controller';
import { WorkerModule } from '../../worker/src/worker.module';
import { TenancyModule } from '@wharf/tenancy';
import { AuditModule } from '@wharf/audit';
import { AuditEventsController, InstanceAuditEventsController } from './http/audit/audit-events.controller';
import { AuthGuard } from './http/common/auth.guard';
import { AuthController } from './http/auth/auth.controller';
import { MeController } from './http/me/me.controller';
import { InvitationsController, OrganizationsController } from './http/organizations/organizations.controller';
import { OidcAuthController, OidcProvidersController } from './http/oidc/oidc.controller';
import { ProjectsModule } from '@wharf/projects';
import { ApplicationsModule } from '@wharf/applications';
import { RoutingModule } from '@wharf/routing';
import { SourcesModule } from '@wharf/sources';
import { SourcesController } from './http/applications/sources.controller';
import { GitProvidersController } from './http/git-providers/git-providers.controller';
import { GitProviderOAuthController } from './http/git-providers/git-provider-oauth.controller';
import { PreviewsController } from './http/applications/previews.controller';
import { WebhooksController } from './http/applications/webhooks.controller';
import { DomainsController } from './http/applications/domains.controller';
import { AcmeChallengeController, CertificatesController, InstanceTlsController } from './http/applications/certificates.controller';
import { ApplicationsController, DeploymentsController, EnvironmentApplicationsController, OrganizationApplicationsController, RegistriesController } from './http/applications/applications.controller';
import { ProjectsController } from './http/projects/projects.controller';
import { EnvironmentsController } from './http/projects/environments.controller';
import { ApplicationPlaces, OrganizationEventsController } from './http/organizations/organization-events.controller';

/** Log levels at which pino-http's per-request lines (level info) are written. */
const REQUEST_LOG_LEVELS = ['info', 'debug', 'trace'];

/** Pieces every role needs: config, logging, database, queues, CQRS. */
function infrastructure(config: WharfConfig): DynamicModule[] {
  const requestLogs = REQUEST_LOG_LEVELS.includes(config.logLevel);
  return [
    CoreModule.forRoot(config),
    LoggerModule.forRoot({
      pinoHttp: {
        level: config.logLevel,
        genReqId: (req) => (req as { id?: string }).id ?? newId(),
        redact: {
          paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]', 'req.headers["x-csrf-token"]', 'res.headers["set-cookie"]'],
          censor: '[redacted]',
        },
        // The role is a binding of the root logger (every line carries it) rather than per-request custom props, which
        // cost pino-http a child logger and a stringify on every request.
        base: { pid: process.pid, hostname: hostname(), role: config.role },
        // "request completed" lines are written at info: below that level they would be built and dropped on every request.
        autoLogging: requestLogs ? { ignore: (req) => (req.url ?? '').startsWith('/health') } : false,
        // pino-http also gives every request a child logger bound to the serialized (and redacted) request, used only for
        // that line; without it nothing logs a request or response object, so they are not serialized at all.
        ...(requestLogs ? {} : { wrapSerializers: false, serializers: { req: () => undefined, res: () => undefined } }),
        quietReqLogger: true,
      },
      exclude: [{ method: RequestMethod.ALL, path: 'health/(.*)' }],
    }),
    TypeOrmModule.forRoot(dataSourceOptions(config.databaseUrl, APP_DB_LIMITS)),
    // An idle install should cost next to no CPU: a worker's blocking wait for jobs lasts 30 s instead of 5, and the
    // poll for delayed jobs (a backstop: Bull arms a timer for the next delayed job and hears of new ones over pub/sub)
    // runs every 30 s instead of 5. A new job still wakes the blocking wait at once.
    BullModule.forRoot({ redis: config.redisUrl, prefix: config.queuePrefix, settings: { drainDelay: 30, guardInterval: 30_000 } }),
    BullModule.registerQueue(...Object.values(QUEUES).map((name) => ({ name }))),
    CqrsModule.forRoot(),
  ] as DynamicModule[];
}

@Module({})
export class AppModule {
  static forRoot(config: WharfConfig): DynamicModule {
    const http = config.role !== 'worker';
    const worker = config.role !== 'api';
    return {
      module: AppModule,
      imports: [...infrastructure(config), TenancyModule, AuditModule, ProjectsModule, ApplicationsModule, RoutingModule, SourcesModule, ...(http ? [TerminusModule] : []), ...(worker ? [WorkerModule] : [])],
      controllers: http ? [HealthController, MetricsController, AuthController, MeController, OrganizationsController, InvitationsController, AuditEventsController, InstanceAuditEventsController, ProjectsController, EnvironmentsController, OidcAuthController, OidcProvidersController, RegistriesController, EnvironmentApplicationsController, OrganizationApplicationsController, ApplicationsController, DeploymentsController, DomainsController, CertificatesController, InstanceTlsController, SourcesController, GitProvidersController, GitProviderOAuthController, PreviewsController, WebhooksController, AcmeChallengeController, OrganizationEventsController] : [],
      providers: [{ provide: APP_FILTER, useClass: ProblemFilter }, ...(http ? [{ provide: APP_GUARD, useClass: AuthGuard }, ApplicationPlaces] : [])],
    };
  }
}

export { UUID_RE };
