import { Module } from '@nestjs/common';
import { handlersOf } from '@wharf/core';
import { TenancyModule } from '@wharf/tenancy';
import * as sources from './commands/source.commands';
import * as webhooks from './commands/webhook.commands';
import * as providerWebhooks from './commands/provider-webhook.commands';
import * as gitProviders from './commands/git-provider.commands';
import * as gitProviderOAuth from './commands/git-provider-oauth.commands';
import * as previews from './previews/preview.commands';
import * as uploads from './uploads/upload.commands';
import { CommitStatusListener } from './providers/commit-status.listener';

/** Applications' Git sources (commands and queries); the worker checks out and builds them. */
@Module({
  imports: [TenancyModule],
  providers: [...handlersOf(sources), ...handlersOf(webhooks), ...handlersOf(providerWebhooks), webhooks.ApplicationWebhookDispatcher, ...handlersOf(gitProviders), ...handlersOf(gitProviderOAuth), ...handlersOf(previews), ...handlersOf(uploads), previews.PreviewDeployer, previews.PreviewEventsListener, CommitStatusListener],
})
export class SourcesModule {}
