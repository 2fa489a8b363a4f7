import type { EventEnvelope } from './events';
import { isEventType } from './events';

/**
 * What the organization's live stream (`GET /organizations/{orgId}/events`, `event: domain`) carries: a whitelisted
 * copy of a committed domain event. Never values (variable values, spec fields, changes); only ids, names and a
 * status. Delivery is at least once: clients dedupe by `id`.
 */
export interface LiveEvent {
  id: string;
  type: string;
  occurredAt: string;
  organizationId: string;
  subject: { type: string; id: string | null; name: string | null };
  actor: { type: string; name: string };
  payload: LiveEventPayload;
}

export interface LiveEventPayload {
  projectId?: string;
  environmentId?: string;
  applicationId?: string;
  deploymentId?: string;
  status?: string;
  kind?: string;
  /** A failed deployment's error, cut to LIVE_ERROR_MAX characters. */
  error?: string;
}

export const LIVE_ERROR_MAX = 300;

/** The Redis pub/sub channel of one organization's live events. */
export const LIVE_EVENTS_CHANNEL = (prefix: string, organizationId: string): string => `${prefix}:events:${organizationId}`;

const ID_FIELDS = ['projectId', 'environmentId', 'applicationId', 'deploymentId'] as const;
const WORD_FIELDS = ['status', 'kind'] as const;
const ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const WORD_RE = /^[a-z][a-z0-9-]{0,39}$/;

const str = (v: unknown, max: number): string | null => (typeof v === 'string' ? v.slice(0, max) : null);

/**
 * The whitelisted copy of an envelope, or null when it has no place on a live stream: no organization, or not one of
 * the declared event types (denials and other audit-only records are never sent).
 */
export function sanitizeLiveEvent(e: EventEnvelope): LiveEvent | null {
  if (!e || typeof e.organizationId !== 'string' || !isEventType(e.type)) return null;
  const src = (e.payload && typeof e.payload === 'object' ? e.payload : {}) as Record<string, unknown>;
  const payload: LiveEventPayload = {};
  for (const f of ID_FIELDS) if (typeof src[f] === 'string' && ID_RE.test(src[f] as string)) payload[f] = src[f] as string;
  for (const f of WORD_FIELDS) if (typeof src[f] === 'string' && WORD_RE.test(src[f] as string)) payload[f] = src[f] as string;
  if (e.subject?.type === 'deployment' && typeof e.subject.id === 'string') payload.deploymentId = e.subject.id;
  const error = str(src.error, LIVE_ERROR_MAX);
  if (error) payload.error = error;
  return {
    id: e.id,
    type: e.type,
    occurredAt: e.occurredAt,
    organizationId: e.organizationId,
    subject: { type: String(e.subject?.type ?? ''), id: str(e.subject?.id, 100), name: str(e.subject?.name, 200) },
    actor: { type: String(e.actor?.type ?? 'system'), name: str(e.actor?.name, 200) ?? '' },
    payload,
  };
}
