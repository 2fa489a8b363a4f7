import { Controller, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { NotFoundError, ValidationError } from '@wharf/core';
import { ClientContext } from '@wharf/tenancy';
import { isWebhookProvider, ReceiveProviderWebhookCommand, ReceiveWebhookCommand } from '@wharf/sources';
import { IdPipe } from '../common/params';
import { Public } from '../common/public.decorator';

type RawRequest = Request & { rawBody?: Buffer; id?: string };
const clientOf = (req: RawRequest): ClientContext => ({ ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null, requestId: req.id ?? null });
function rawBodyOf(req: RawRequest): Buffer {
  if (!req.rawBody) throw ValidationError.field('', 'content-type', 'send the delivery as application/json');
  return req.rawBody;
}

/**
 * Webhook deliveries, public and authenticated by their signature (JSON bodies only, `Content-Type: application/json`,
 * at most WHARF_BODY_LIMIT). Answers 202 with the outcome (accepted with the queued deployment, or ignored with the
 * reason), 200 for a duplicate delivery, 401 for a bad or missing signature, 413 when too large.
 *  - POST /api/v1/webhooks/applications/{id}/{github|gitlab|gitea|bitbucket|generic}: an application's own webhook,
 *    signed with its webhook secret (see ReceiveWebhookCommand).
 *  - POST /api/v1/webhooks/git-providers/{id}/github: a GitHub App connection's webhook, signed with the App's webhook
 *    secret stored on the connection, for every application of the organization whose source uses the connection and
 *    the delivery's repository (see ReceiveProviderWebhookCommand).
 */
@Public()
@ApiExcludeController()
@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly commands: CommandBus) {}

  @Post('applications/:applicationId/:provider')
  @HttpCode(202)
  async receive(@Param('applicationId', IdPipe) applicationId: string, @Param('provider') provider: string, @Req() req: RawRequest, @Res({ passthrough: true }) res: Response) {
    if (!isWebhookProvider(provider)) throw new NotFoundError('Webhook');
    const r = await this.commands.execute(new ReceiveWebhookCommand(provider, applicationId, req.headers, rawBodyOf(req), clientOf(req)));
    res.status(r.status);
    return { outcome: r.outcome, reason: r.reason, deliveryId: r.deliveryId, deploymentId: r.deploymentId };
  }

  @Post('git-providers/:providerId/github')
  @HttpCode(202)
  async receiveForProvider(@Param('providerId', IdPipe) providerId: string, @Req() req: RawRequest, @Res({ passthrough: true }) res: Response) {
    const r = await this.commands.execute(new ReceiveProviderWebhookCommand(providerId, req.headers, rawBodyOf(req), clientOf(req)));
    res.status(r.status);
    return { outcome: r.outcome, reason: r.reason, deliveryId: r.deliveryId, applications: r.applications };
  }
}
