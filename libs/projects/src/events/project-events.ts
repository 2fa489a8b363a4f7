/**
 * Event types published by libs/projects (through the outbox; envelopes are `DomainEvent`s from @wharf/core).
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
} as const;
export type ProjectEventType = (typeof PROJECT_EVENTS)[keyof typeof PROJECT_EVENTS];

export interface ProjectEventPayload {
  projectId: string;
  slug: string;
}
export interface ProjectDeletedPayload extends ProjectEventPayload {
  environmentIds: string[];
}
export interface EnvironmentEventPayload {
  projectId: string;
  environmentId: string;
  slug: string;
}
/** Never carries a value. */
export interface VariableEventPayload {
  projectId: string;
  environmentId: string | null;
  key: string;
  secret: boolean;
}

/** What audit `changes` say instead of a secret. */
export const REDACTED = '[redacted]';
