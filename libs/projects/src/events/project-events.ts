import type { EventType } from '@wharf/contracts';

/**
 * Event types published by libs/projects (through the outbox to `@OnDomainEvent` listeners, see @wharf/core).
 * Other libs react to these (e.g. tearing down an environment's services after `environment.deleted`).
 */
export const PROJECT_EVENTS = {
  projectCreated: 'project.created',
  projectUpdated: 'project.updated',
  projectDeleted: 'project.deleted',
  environmentCreated: 'environment.created',
  environmentUpdated: 'environment.updated',
  environmentDeleted: 'environment.deleted',
  variableCreated: 'variable.created',
  variableUpdated: 'variable.updated',
  variableDeleted: 'variable.deleted',
  variableRevealed: 'variable.revealed',
} as const satisfies Record<string, EventType>;
export type ProjectEventType = (typeof PROJECT_EVENTS)[keyof typeof PROJECT_EVENTS];

/** The payloads live in @wharf/contracts (`EventPayloads`), so every lib and listener shares one definition. */
export type { EnvironmentEventPayload, ProjectDeletedPayload, ProjectEventPayload, VariableEventPayload } from '@wharf/contracts';

/** What audit `changes` say instead of a secret. */
export const REDACTED = '[redacted]';
