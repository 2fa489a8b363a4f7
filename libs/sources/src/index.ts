// Public surface of the sources lib: where applications' code comes from. For now the webhook layer (pure, no Nest,
// no database): signatures and delivery ids of every provider, their payloads read into one shape, and whether a push
// deploys. The API's webhook endpoints and the Git checkout (libs/orchestration GitPort) build on it.
export * from './webhooks/webhook-signatures';
export * from './webhooks/webhook-events';
export * from './deploy-keys/deploy-key';
