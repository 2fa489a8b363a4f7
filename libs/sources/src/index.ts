// Public surface of the sources lib: where applications' code comes from. The webhook layer (pure: signatures and
// delivery ids of every provider, their payloads read into one shape, whether a push deploys), deploy keys, and the
// commands and queries of an application's Git source (SourcesModule). The worker's Git checkout is GitPort in
// libs/orchestration.
export * from './webhooks/webhook-signatures';
export * from './webhooks/webhook-events';
export * from './deploy-keys/deploy-key';
export * from './commands/source.commands';
export * from './commands/webhook.commands';
export * from './commands/provider-webhook.commands';
export * from './commands/git-provider.commands';
export * from './commands/git-provider-oauth.commands';
export * from './previews/preview-rules';
export * from './previews/preview.commands';
export * from './uploads/archive';
export * from './uploads/upload-view';
export * from './uploads/upload.commands';
export * from './sources.module';
