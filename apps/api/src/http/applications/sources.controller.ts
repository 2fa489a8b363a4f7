import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Put, Query, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBody, ApiConsumes, ApiCreatedResponse, ApiHeader, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { UPLOAD_CONTENT_TYPES } from '@wharf/contracts';
import { ValidationError } from '@wharf/core';
import { GenerateDeployKeyCommand, GetApplicationSourceQuery, ListWebhookDeliveriesQuery, ScanHostKeysQuery, RemoveApplicationSourceCommand, RevealWebhookSecretCommand, SetApplicationSourceCommand, UploadSourceCommand } from '@wharf/sources';
import { Principal } from '@wharf/tenancy';
import { CurrentPrincipal } from '../common/principal.decorator';
import { IdPipe, parseIfMatch } from '../common/params';
import { ApiErrors } from '../common/api-errors.decorator';
import { ApplicationSourceDto, HostKeyScanDto, SetApplicationSourceDto, SourceUploadResultDto, WebhookDeliveryDto, WebhookSecretDto } from './sources.dto';

const given = (dto: object): Record<string, unknown> => Object.fromEntries(Object.entries(dto).filter(([, v]) => v !== undefined));

@ApiTags('sources')
@ApiErrors(401, 404)
@Controller('applications/:applicationId/source')
export class SourcesController {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({ summary: "The application's Git source (ETag: its version; secrets never returned)" })
  @ApiOkResponse({ type: ApplicationSourceDto, headers: { ETag: { description: 'The version, for If-Match' } } })
  async get(@CurrentPrincipal() p: Principal, @Param('applicationId', IdPipe) applicationId: string, @Res({ passthrough: true }) res: Response) {
    const s = await this.queries.execute(new GetApplicationSourceQuery(p, applicationId));
    res.setHeader('ETag', `"${s.version}"`);
    return s;
  }

  @Put()
  @ApiOperation({ summary: 'Set the source: a Git repository (repository, ref, build path, watch paths, submodules, authentication, build) or kind "upload" (build path and build only; archives come with POST …/source/upload); If-Match: version' })
  @ApiOkResponse({ type: ApplicationSourceDto })
  @ApiErrors(400, 403, 409, 412)
  set(@CurrentPrincipal() p: Principal, @Param('applicationId', IdPipe) applicationId: string, @Body() dto: SetApplicationSourceDto, @Headers('if-match') ifMatch?: string) {
    return this.commands.execute(new SetApplicationSourceCommand(p, applicationId, given(dto), parseIfMatch(ifMatch)));
  }

  @Post('upload')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Upload a source archive (the raw request body: application/gzip for tar.gz, application/x-tar; at most WHARF_UPLOAD_MAX_MB): stored, its sha256 recorded, every entry checked '
      + '(no absolute paths, .. or links out of the archive, devices, too many entries or bytes); the next deployment builds it. An application without a source gets an upload source; '
      + 'a Git source is a 409 (PUT …/source with kind "upload" first). deploy=true also queues a deployment. If-Match: the source version; Idempotency-Key: a repeat with the same bytes gets the first answer.',
  })
  @ApiConsumes(...Object.keys(UPLOAD_CONTENT_TYPES))
  @ApiBody({ schema: { type: 'string', format: 'binary' }, description: 'The archive, as the request body' })
  @ApiQuery({ name: 'deploy', required: false, type: Boolean, description: 'Also queue a deployment of the archive (needs the deploy permission)' })
  @ApiQuery({ name: 'filename', required: false, type: String, description: 'The file name to record (a base name; unsafe characters are replaced)' })
  @ApiHeader({ name: 'If-Match', required: false, description: 'The source version the upload replaces' })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiCreatedResponse({ type: SourceUploadResultDto })
  @ApiErrors(400, 403, 409, 412, 413, 415, 422)
  upload(
    @CurrentPrincipal() p: Principal, @Param('applicationId', IdPipe) applicationId: string, @Req() req: Request,
    @Query('deploy') deploy?: string, @Query('filename') filename?: string, @Headers('if-match') ifMatch?: string, @Headers('idempotency-key') key?: string,
  ) {
    if (deploy !== undefined && deploy !== 'true' && deploy !== 'false') throw ValidationError.field('/deploy', 'type', 'deploy must be true or false');
    if (filename !== undefined && (typeof filename !== 'string' || filename.length > 1000)) throw ValidationError.field('/filename', 'invalid', 'filename must be a file name of at most 1000 characters');
    if (key !== undefined && !/^[A-Za-z0-9._:-]{1,200}$/.test(key)) throw ValidationError.field('/headers/idempotency-key', 'format', 'Idempotency-Key: 1-200 characters A-Za-z0-9._:-');
    return this.commands.execute(new UploadSourceCommand(p, applicationId, req, {
      contentType: req.headers['content-type'], contentLength: req.headers['content-length'], fileName: filename, expectedVersion: parseIfMatch(ifMatch),
      ...(key !== undefined ? { idempotencyKey: key } : {}), deploy: deploy === 'true',
    }));
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove the Git source (the application runs its image again; its deploy key and webhook secret go too)' })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiErrors(403, 409)
  async remove(@CurrentPrincipal() p: Principal, @Param('applicationId', IdPipe) applicationId: string): Promise<void> {
    await this.commands.execute(new RemoveApplicationSourceCommand(p, applicationId));
  }

  @Post('deploy-key')
  @HttpCode(200)
  @ApiOperation({ summary: 'Generate a new ed25519 deploy key (the public key is in the answer; the private key never leaves Wharf)' })
  @ApiOkResponse({ type: ApplicationSourceDto })
  @ApiErrors(403, 409)
  deployKey(@CurrentPrincipal() p: Principal, @Param('applicationId', IdPipe) applicationId: string) {
    return this.commands.execute(new GenerateDeployKeyCommand(p, applicationId));
  }

  @Post('scan-host-keys')
  @HttpCode(200)
  @ApiOperation({ summary: "The SSH server's host keys as the worker sees them (ssh-keyscan), to compare with the provider's fingerprints and save as knownHosts; nothing is stored" })
  @ApiOkResponse({ type: HostKeyScanDto })
  @ApiErrors(403, 409)
  scanHostKeys(@CurrentPrincipal() p: Principal, @Param('applicationId', IdPipe) applicationId: string) {
    return this.queries.execute(new ScanHostKeysQuery(p, applicationId));
  }

  @Get('deliveries')
  @ApiOperation({ summary: 'The last 100 webhook deliveries (accepted with their deployment, ignored or rejected with the reason), newest first' })
  @ApiOkResponse({ type: [WebhookDeliveryDto] })
  deliveries(@CurrentPrincipal() p: Principal, @Param('applicationId', IdPipe) applicationId: string) {
    return this.queries.execute(new ListWebhookDeliveriesQuery(p, applicationId));
  }

  @Post('webhook-secret/reveal')
  @HttpCode(200)
  @ApiOperation({ summary: 'Show the webhook secret (audited)' })
  @ApiOkResponse({ type: WebhookSecretDto })
  @ApiErrors(403, 409)
  reveal(@CurrentPrincipal() p: Principal, @Param('applicationId', IdPipe) applicationId: string) {
    return this.commands.execute(new RevealWebhookSecretCommand(p, applicationId, false));
  }

  @Post('webhook-secret/rotate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Replace the webhook secret and show the new one (audited; deliveries signed with the old one are refused)' })
  @ApiOkResponse({ type: WebhookSecretDto })
  @ApiErrors(403, 409)
  rotate(@CurrentPrincipal() p: Principal, @Param('applicationId', IdPipe) applicationId: string) {
    return this.commands.execute(new RevealWebhookSecretCommand(p, applicationId, true));
  }
}
