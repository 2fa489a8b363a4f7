import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Put, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { GenerateDeployKeyCommand, GetApplicationSourceQuery, ListWebhookDeliveriesQuery, ScanHostKeysQuery, RemoveApplicationSourceCommand, RevealWebhookSecretCommand, SetApplicationSourceCommand } from '@wharf/sources';
import { Principal } from '@wharf/tenancy';
import { CurrentPrincipal } from '../common/principal.decorator';
import { IdPipe, parseIfMatch } from '../common/params';
import { ApiErrors } from '../common/api-errors.decorator';
import { ApplicationSourceDto, HostKeyScanDto, SetApplicationSourceDto, WebhookDeliveryDto, WebhookSecretDto } from './sources.dto';

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
  @ApiOperation({ summary: 'Set the Git source (repository, ref, build path, watch paths, submodules, authentication, Dockerfile build); If-Match: version' })
  @ApiOkResponse({ type: ApplicationSourceDto })
  @ApiErrors(400, 403, 409, 412)
  set(@CurrentPrincipal() p: Principal, @Param('applicationId', IdPipe) applicationId: string, @Body() dto: SetApplicationSourceDto, @Headers('if-match') ifMatch?: string) {
    return this.commands.execute(new SetApplicationSourceCommand(p, applicationId, given(dto), parseIfMatch(ifMatch)));
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
