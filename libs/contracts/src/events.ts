/** The one versioned event envelope used by the outbox, the audit log, notifications and live updates. */
export type ActorType = 'user' | 'api-key' | 'system';

export interface ActorRef {
  type: ActorType;
  id: string | null;
  /** Display name at the time of the event (email, key name, "system"). */
  name: string;
}

export interface SubjectRef {
  type: string;
  id: string | null;
  name?: string | null;
}

export interface EventEnvelope<P = Record<string, unknown>> {
  id: string;
  type: string;
  version: number;
  occurredAt: string;
  organizationId: string | null;
  actor: ActorRef;
  subject: SubjectRef;
  payload: P;
}

export type AuditOutcome = 'succeeded' | 'denied' | 'failed';
