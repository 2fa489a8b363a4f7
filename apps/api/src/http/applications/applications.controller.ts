import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Put, Query, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiAcceptedResponse, ApiCreatedResponse, ApiExtraModels, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import {
  CancelDeploymentCommand, CreateApplicationCommand, CreateRegistryCommand, DeleteApplicationCommand, DeleteRegistryCommand,
  GetApplicationQuery, GetApplicationStatusQuery, GetDeploymentLogQuery, GetDeploymentQuery, ListApplicationsQuery, ListApplicationVariablesQuery,
  ListDeploymentsQuery, ListRegistriesQuery, RequestDeploymentCommand, RevealApplicationVariableCommand, SetApplicationVariablesCommand,
  ListServersQuery, TestRegistryCommand, UpdateApplicationCommand, UpdateRegistryCommand,
} from '@wharf/applications';
import { FINISHED_STATUSES } from '@wharf/contracts';
import { LiveEventHub, parsePage, ValidationError, WorkerRpcClient } from '@wharf/core';
import { GetOrganizationQuery, Principal } from '@wharf/tenancy';
import { CurrentPrincipal } from '../common/principal.decorator';
import { IdPipe, parseIfMatch } from '../common/params';
import { ApiErrors } from '../common/api-errors.decorator';
import {
  AcceptedDto, ApplicationDto, ApplicationPageDto, ApplicationStatusDto, AppVariableDto, DeploymentDto, DeploymentLogDto, DeploymentPageDto, RegistryDto, RegistryTestDto,
  RevealedAppVariableDto, RuntimeLogsDto, ServerDto,
} from './application-views.dto';
import { CreateApplicationDto, CreateRegistryDto, RequestDeploymentDto, ScaleDto, SetVariablesDto, UpdateApplicationDto, UpdateRegistryDto } from './applications.dto';

const KEY_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
function idempotencyKey(h?: string): string | undefined {
  if (h === undefined) return undefined;
  if (!/^[A-Za-z0-9._:-]{1,200}$/.test(h)) throw ValidationError.field('/headers/idempotency-key', 'format', 'Idempotency-Key: 1-200 characters A-Za-z0-9._:-');
  return h;
}

@ApiTags('registries')
@ApiErrors(401, 404)
@Controller()
export class RegistriesController {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus) {}

  @Get('organizations/:orgId/registries')
  @ApiOperation({ summary: 'Container registries of the organization (passwords never returned)' })
  @ApiOkResponse({ type: [RegistryDto] })
  list(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string) {
    return this.queries.execute(new ListRegistriesQuery(p, orgId));
  }

  @Post('organizations/:orgId/registries')
  @ApiOperation({ summary: 'Add a registry with its credentials (the password is stored encrypted)' })
  @ApiCreatedResponse({ type: RegistryDto })
  @ApiErrors(400, 403, 409)
  create(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string, @Body() dto: CreateRegistryDto) {
    return this.commands.execute(new CreateRegistryCommand(p, orgId, dto));
  }

  @Patch('registries/:registryId')
  @ApiOperation({ summary: 'Change a registry (If-Match: version)' })
  @ApiOkResponse({ type: RegistryDto })
  @ApiErrors(400, 403, 412)
  update(@CurrentPrincipal() p: Principal, @Param('registryId', IdPipe) id: string, @Body() dto: UpdateRegistryDto, @Headers('if-match') ifMatch?: string) {
    return this.commands.execute(new UpdateRegistryCommand(p, id, dto, parseIfMatch(ifMatch)));
  }

  @Post('registries/:registryId/test')
  @HttpCode(200)
  @ApiOperation({ summary: 'Test the credentials: the worker logs in to the registry through the Engine API' })
  @ApiOkResponse({ type: RegistryTestDto })
  @ApiErrors(403, 503)
  test(@CurrentPrincipal() p: Principal, @Param('registryId', IdPipe) id: string) {
    return this.commands.execute(new TestRegistryCommand(p, id));
  }

  @Get('servers')
  @ApiTags('servers')
  @ApiOperation({ summary: 'Servers you can see, with what the worker observed (Swarm state, IPVS, nodes, engine)' })
  @ApiOkResponse({ type: [ServerDto] })
  servers(@CurrentPrincipal() p: Principal) {
    return this.queries.execute(new ListServersQuery(p));
  }

  @Delete('registries/:registryId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a registry that no application uses' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(403, 409)
  async remove(@CurrentPrincipal() p: Principal, @Param('registryId', IdPipe) id: string): Promise<void> {
    await this.commands.execute(new DeleteRegistryCommand(p, id));
  }
}

@ApiTags('applications')
@ApiErrors(401, 404)
@Controller('organizations/:orgId/applications')
export class OrganizationApplicationsController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({ summary: "The organization's applications you may read, with their live runtime state (one request for the dashboard)" })
  @ApiOkResponse({ type: ApplicationPageDto })
  @ApiQuery({ name: 'limit', required: false }) @ApiQuery({ name: 'cursor', required: false })
  async list(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string, @Query('limit') limit?: string, @Query('cursor') cursor?: string) {
    // Outside your organizations: 404, exactly as for an unknown id.
    await this.queries.execute(new GetOrganizationQuery(p, orgId));
    return this.queries.execute(new ListApplicationsQuery(p, { organizationId: orgId }, parsePage(limit, cursor)));
  }
}

@ApiTags('applications')
@ApiErrors(401, 404)
@Controller('environments/:environmentId/applications')
export class EnvironmentApplicationsController {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({ summary: 'Applications of the environment, with their live runtime state' })
  @ApiOkResponse({ type: ApplicationPageDto })
  @ApiQuery({ name: 'limit', required: false }) @ApiQuery({ name: 'cursor', required: false })
  list(@CurrentPrincipal() p: Principal, @Param('environmentId', IdPipe) environmentId: string, @Query('limit') limit?: string, @Query('cursor') cursor?: string) {
    return this.queries.execute(new ListApplicationsQuery(p, { environmentId }, parsePage(limit, cursor)));
  }

  @Post()
  @ApiOperation({ summary: 'Create an application from a container image' })
  @ApiCreatedResponse({ type: ApplicationDto })
  @ApiErrors(400, 403, 409)
  create(@CurrentPrincipal() p: Principal, @Param('environmentId', IdPipe) environmentId: string, @Body() dto: CreateApplicationDto) {
    return this.commands.execute(new CreateApplicationCommand(p, environmentId, dto));
  }
}

@ApiTags('applications')
@ApiExtraModels(RuntimeLogsDto)
@ApiErrors(401, 404)
@Controller('applications/:applicationId')
export class ApplicationsController {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus, private readonly rpc: WorkerRpcClient) {}

  @Get('logs')
  @ApiOperation({ summary: 'Runtime logs from the Swarm service (stdout and stderr separated); follow=true streams Server-Sent Events' })
  @ApiProduces('application/json', 'text/event-stream')
  @ApiOkResponse({
    description: 'JSON { lines }, or with follow=true Server-Sent Events (event stdout|stderr with a line as data, then end)',
    content: { 'application/json': { schema: { $ref: getSchemaPath(RuntimeLogsDto) } }, 'text/event-stream': { schema: { type: 'string' } } },
  })
  @ApiQuery({ name: 'follow', required: false, type: Boolean }) @ApiQuery({ name: 'tail', required: false, type: Number }) @ApiQuery({ name: 'since', required: false, description: 'ISO time' })
  @ApiErrors(400, 503)
  async runtimeLogs(@CurrentPrincipal() p: Principal, @Param('applicationId', IdPipe) id: string, @Req() req: Request, @Res() res: Response, @Query('follow') follow?: string, @Query('tail') tailRaw?: string, @Query('since') since?: string): Promise<void> {
    const tail = tailRaw === undefined ? 200 : Number(tailRaw);
    if (!Number.isInteger(tail) || tail < 0 || tail > 10_000) throw ValidationError.field('/tail', 'range', 'tail must be an integer between 0 and 10000');
    if (since !== undefined && Number.isNaN(Date.parse(since))) throw ValidationError.field('/since', 'format', 'since must be an ISO date-time');
    const app = await this.queries.execute(new GetApplicationQuery(p, id));
    const ac = new AbortController();
    req.on('close', () => ac.abort());
    const stream = this.rpc.stream<{ stream: string; line: string; time: string }>('application.logs', { applicationId: app.id, tail, since, follow: follow === 'true' }, ac.signal);
    if (follow !== 'true') {
      const lines: Array<{ stream: string; line: string; time: string }> = [];
      for await (const l of stream) lines.push(l);
      res.json({ lines });
      return;
    }
    const it = stream[Symbol.asyncIterator]();
    const first = await it.next(); // errors (no worker, no service) still become problem+json
    res.status(200).set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache, no-transform', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    try {
      for (let r = first; !r.done && !ac.signal.aborted; r = await it.next()) res.write(`event: ${r.value.stream}\ndata: ${JSON.stringify(r.value)}\n\n`);
      res.write('event: end\ndata: {}\n\n');
    } catch (e) {
      res.write(`event: error\ndata: ${JSON.stringify({ message: (e as Error).message })}\n\n`);
    } finally {
      // Leaving the loop because the client went away leaves the stream suspended at its last chunk: end it, so its
      // Redis connection and heartbeat go (before, each closed follow leaked both).
      await it.return?.(undefined).catch(() => undefined);
    }
    res.end();
  }

  @Get()
  @ApiOperation({ summary: 'One application with its spec and live runtime state (ETag: its version)' })
  @ApiOkResponse({ type: ApplicationDto, headers: { ETag: { description: 'The version, for If-Match' } } })
  async get(@CurrentPrincipal() p: Principal, @Param('applicationId', IdPipe) id: string, @Res({ passthrough: true }) res: Response) {
    const a = await this.queries.execute(new GetApplicationQuery(p, id));
    res.setHeader('ETag', `"${a.version}"`);
    return a;
  }

  @Patch()
  @ApiOperation({ summary: 'Rename or change the spec (partial; takes effect at the next deployment)' })
  @ApiOkResponse({ type: ApplicationDto })
  @ApiErrors(400, 403, 409, 412)
  update(@CurrentPrincipal() p: Principal, @Param('applicationId', IdPipe) id: string, @Body() dto: UpdateApplicationDto, @Headers('if-match') ifMatch?: string) {
    return this.commands.execute(new UpdateApplicationCommand(p, id, dto, parseIfMatch(ifMatch)));
  }

  @Delete()
  @HttpCode(202)
  @ApiOperation({ summary: 'Delete: removes the Swarm service; with removeVolumes=true also the named volumes Wharf created for this application (never unlabelled or shared ones)' })
  @ApiAcceptedResponse({ type: AcceptedDto, description: 'The worker removes the service and then the application' })
  @ApiQuery({ name: 'removeVolumes', required: false, type: Boolean })
  @ApiErrors(403)
  async remove(@CurrentPrincipal() p: Principal, @Param('applicationId', IdPipe) id: string, @Query('removeVolumes') removeVolumes?: string): Promise<{ accepted: true }> {
    if (removeVolumes !== undefined && !['true', 'false'].includes(removeVolumes)) throw ValidationError.field('/removeVolumes', 'type', 'removeVolumes must be true or false');
    await this.commands.execute(new DeleteApplicationCommand(p, id, removeVolumes === 'true'));
    return { accepted: true };
  }

  @Get('status')
  @ApiOperation({ summary: 'State from the real Swarm tasks (running, degraded, stopped, missing, deploying), drift, server' })
  @ApiOkResponse({ type: ApplicationStatusDto })
  status(@CurrentPrincipal() p: Principal, @Param('applicationId', IdPipe) id: string) {
    return this.queries.execute(new GetApplicationStatusQuery(p, id));
  }

  @Get('variables')
  @ApiOperation({ summary: 'Variables of the application, by key (secret values are null)' })
  @ApiOkResponse({ type: [AppVariableDto] })
  variables(@CurrentPrincipal() p: Principal, @Param('applicationId', IdPipe) id: string) {
    return this.queries.execute(new ListApplicationVariablesQuery(p, id));
  }

  @Put('variables')
  @ApiOperation({ summary: 'Upsert variables; values may reference ${{project.NAME}}, ${{environment.NAME}} or ${{NAME}}' })
  @ApiOkResponse({ type: [AppVariableDto], description: 'All variables of the application after the change' })
  @ApiErrors(400, 403)
  setVariables(@CurrentPrincipal() p: Principal, @Param('applicationId', IdPipe) id: string, @Body() dto: SetVariablesDto) {
    return this.commands.execute(new SetApplicationVariablesCommand(p, id, dto.variables));
  }

  @Delete('variables/:key')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete one variable of the application' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(403)
  async deleteVariable(@CurrentPrincipal() p: Principal, @Param('applicationId', IdPipe) id: string, @Param('key') key: string): Promise<void> {
    if (!KEY_RE.test(key)) throw ValidationError.field('/key', 'format', 'not a variable key');
    await this.commands.execute(new SetApplicationVariablesCommand(p, id, [], [key]));
  }

  @Post('variables/:key/reveal')
  @HttpCode(200)
  @ApiOperation({ summary: 'The clear value of a secret variable (permission variable:reveal; audited)' })
  @ApiOkResponse({ type: RevealedAppVariableDto })
  @ApiErrors(403)
  reveal(@CurrentPrincipal() p: Principal, @Param('applicationId', IdPipe) id: string, @Param('key') key: string) {
    if (!KEY_RE.test(key)) throw ValidationError.field('/key', 'format', 'not a variable key');
    return this.commands.execute(new RevealApplicationVariableCommand(p, id, key));
  }

  @Post('deployments')
  @HttpCode(202)
  @ApiOperation({ summary: 'Deploy (queued; at most one runs per application, a newer request supersedes older queued ones). Accepts Idempotency-Key: a repeat gets the original response, the same key with another request 422.' })
  @ApiAcceptedResponse({ type: DeploymentDto, description: 'The deployment (queued, or already finished when it failed validation)' })
  @ApiErrors(400, 403, 409, 422)
  deploy(@CurrentPrincipal() p: Principal, @Param('applicationId', IdPipe) id: string, @Body() dto: RequestDeploymentDto, @Headers('idempotency-key') key?: string) {
    return this.commands.execute(new RequestDeploymentCommand(p, id, { kind: dto.kind ?? 'deploy', idempotencyKey: idempotencyKey(key), ...(dto.commit !== undefined ? { commit: dto.commit } : {}), ...(dto.ref !== undefined ? { ref: dto.ref } : {}) }));
  }

  @Get('deployments')
  @ApiOperation({ summary: 'Deployments of the application, newest first' })
  @ApiOkResponse({ type: DeploymentPageDto })
  @ApiQuery({ name: 'limit', required: false }) @ApiQuery({ name: 'cursor', required: false })
  deployments(@CurrentPrincipal() p: Principal, @Param('applicationId', IdPipe) id: string, @Query('limit') limit?: string, @Query('cursor') cursor?: string) {
    return this.queries.execute(new ListDeploymentsQuery(p, id, parsePage(limit, cursor)));
  }

  @Post('stop')
  @HttpCode(202)
  @ApiOperation({ summary: 'Scale to 0 (a deployment of kind stop)' })
  @ApiAcceptedResponse({ type: DeploymentDto, description: 'The deployment (queued, or already finished when it failed validation)' })
  @ApiErrors(403, 409)
  stop(@CurrentPrincipal() p: Principal, @Param('applicationId', IdPipe) id: string) {
    return this.commands.execute(new RequestDeploymentCommand(p, id, { kind: 'stop' }));
  }

  @Post('start')
  @HttpCode(202)
  @ApiOperation({ summary: 'Start a stopped application again (a deployment of kind start)' })
  @ApiAcceptedResponse({ type: DeploymentDto, description: 'The deployment (queued, or already finished when it failed validation)' })
  @ApiErrors(403, 409)
  start(@CurrentPrincipal() p: Principal, @Param('applicationId', IdPipe) id: string) {
    return this.commands.execute(new RequestDeploymentCommand(p, id, { kind: 'start' }));
  }

  @Post('restart')
  @HttpCode(202)
  @ApiOperation({ summary: 'Replace every task with the same spec' })
  @ApiAcceptedResponse({ type: DeploymentDto, description: 'The deployment (queued, or already finished when it failed validation)' })
  @ApiErrors(403, 409)
  restart(@CurrentPrincipal() p: Principal, @Param('applicationId', IdPipe) id: string) {
    return this.commands.execute(new RequestDeploymentCommand(p, id, { kind: 'restart' }));
  }

  @Post('scale')
  @HttpCode(202)
  @ApiOperation({ summary: 'Change the number of replicas (a deployment of kind scale)' })
  @ApiAcceptedResponse({ type: DeploymentDto, description: 'The deployment (queued, or already finished when it failed validation)' })
  @ApiErrors(400, 403, 409)
  scale(@CurrentPrincipal() p: Principal, @Param('applicationId', IdPipe) id: string, @Body() dto: ScaleDto) {
    return this.commands.execute(new RequestDeploymentCommand(p, id, { kind: 'scale', replicas: dto.replicas }));
  }
}

@ApiTags('deployments')
@ApiExtraModels(DeploymentLogDto)
@ApiErrors(401, 404)
@Controller('deployments/:deploymentId')
export class DeploymentsController {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus, private readonly hub: LiveEventHub) {}

  @Get()
  @ApiOperation({ summary: 'One deployment' })
  @ApiOkResponse({ type: DeploymentDto })
  get(@CurrentPrincipal() p: Principal, @Param('deploymentId', IdPipe) id: string) {
    return this.queries.execute(new GetDeploymentQuery(p, id));
  }

  @Post('cancel')
  @HttpCode(202)
  @ApiOperation({ summary: 'Cancel: a queued deployment is removed; a running one aborts its step and restores the previous spec' })
  @ApiAcceptedResponse({ type: DeploymentDto, description: 'The deployment (cancelled, or with cancelRequested while its step aborts)' })
  @ApiErrors(403, 409)
  cancel(@CurrentPrincipal() p: Principal, @Param('deploymentId', IdPipe) id: string) {
    return this.commands.execute(new CancelDeploymentCommand(p, id));
  }

  @Post('rollback')
  @HttpCode(202)
  @ApiOperation({ summary: 'Deploy this (succeeded) deployment again: same spec snapshot, image pinned by digest' })
  @ApiAcceptedResponse({ type: DeploymentDto, description: 'The new deployment of kind rollback' })
  @ApiErrors(403, 409)
  async rollback(@CurrentPrincipal() p: Principal, @Param('deploymentId', IdPipe) id: string) {
    const d = await this.queries.execute(new GetDeploymentQuery(p, id));
    return this.commands.execute(new RequestDeploymentCommand(p, d.applicationId, { kind: 'rollback', rollbackTo: id }));
  }

  @Get('logs')
  @ApiOperation({ summary: 'The deployment log; with follow=true a live Server-Sent Events stream (usable with curl -N)' })
  @ApiProduces('application/json', 'text/event-stream')
  @ApiOkResponse({
    description: 'JSON { status, lines }, or with follow=true Server-Sent Events (event log per line, then end with the final status)',
    content: { 'application/json': { schema: { $ref: getSchemaPath(DeploymentLogDto) } }, 'text/event-stream': { schema: { type: 'string' } } },
  })
  @ApiErrors(400)
  @ApiQuery({ name: 'follow', required: false, type: Boolean }) @ApiQuery({ name: 'after', required: false, type: Number })
  async logs(@CurrentPrincipal() p: Principal, @Param('deploymentId', IdPipe) id: string, @Req() req: Request, @Res() res: Response, @Query('follow') follow?: string, @Query('after') afterRaw?: string): Promise<void> {
    let after = afterRaw === undefined ? 0 : Number(afterRaw);
    if (!Number.isInteger(after) || after < 0) throw ValidationError.field('/after', 'type', 'after must be a non-negative integer');
    const first = await this.queries.execute(new GetDeploymentLogQuery(p, id, after));
    if (follow !== 'true') {
      res.json({ status: first.status, lines: first.lines });
      return;
    }
    res.status(200).set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    // Ends when the client goes away or, before the HTTP server closes (it waits for open responses), at shutdown.
    const shutdown = this.hub.shutdown;
    let closed = false;
    let wake: (() => void) | null = null;
    const stop = (): void => {
      closed = true;
      wake?.();
    };
    req.on('close', stop);
    shutdown.addEventListener('abort', stop);
    if (shutdown.aborted) closed = true;
    let batch = first;
    let idle = 0;
    try {
      while (!closed) {
        for (const line of batch.lines) {
          res.write(`id: ${line.seq}\nevent: log\ndata: ${JSON.stringify(line)}\n\n`);
          after = line.seq;
        }
        if ((FINISHED_STATUSES as readonly string[]).includes(batch.status) && batch.lines.length === 0) {
          res.write(`event: end\ndata: ${JSON.stringify({ status: batch.status })}\n\n`);
          break;
        }
        if (batch.lines.length === 0 && ++idle % 30 === 0) res.write(': keep-alive\n\n');
        await new Promise<void>((r) => {
          const timer = setTimeout(r, 300);
          wake = () => {
            clearTimeout(timer);
            r();
          };
        });
        wake = null;
        if (closed) break;
        batch = await this.queries.execute(new GetDeploymentLogQuery(p, id, after));
      }
    } finally {
      shutdown.removeEventListener('abort', stop);
    }
    res.end();
  }
}
