import { Controller, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { NotFoundError, ValidationError } from '@wharf/core';
import { isWebhookProvider, ReceiveWebhookCommand } from '@wharf/sources';
import { IdPipe } from '../common/params';
import { Public } from '../common/public.decorator';

/**
 * POST /api/v1/webhooks/applications/{id}/{github|gitlab|gitea|bitbucket|generic}: public, authenticated by the
 * delivery's signature with the application's webhook secret (see ReceiveWebhookCommand). JSON bodies only
 * (`Content-Type: application/json`), at most WHARF_BODY_LIMIT. Answers 202 with the outcome (accepted with the queued
 * deployment, or ignored with the reason), 200 for a duplicate delivery, 401 for a bad signature, 413 when too large.
 */
@Public()
@ApiExcludeController()
@Controller('webhooks/applications/:applicationId')
export class WebhooksController {
  constructor(private readonly commands: CommandBus) {}

  @Post(':provider')
  @HttpCode(202)
  async receive(@Param('applicationId', IdPipe) applicationId: string, @Param('provider') provider: string, @Req() req: Request & { rawBody?: Buffer }, @Res({ passthrough: true }) res: Response) {
    if (!isWebhookProvider(provider)) throw new NotFoundError('Webhook');
    if (!req.rawBody) throw ValidationError.field('', 'content-type', 'send the delivery as application/json');
    const r = await this.commands.execute(
      new ReceiveWebhookCommand(provider, applicationId, req.headers, req.rawBody, { ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null, requestId: (req as Request & { id?: string }).id ?? null }),
    );
    res.status(r.status);
    return { outcome: r.outcome, reason: r.reason, deliveryId: r.deliveryId, deploymentId: r.deploymentId };
  }
}
