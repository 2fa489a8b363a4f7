import { canonicalJson, sha256 } from '@wharf/core';
import type { ActorType, AuditOutcome } from '@wharf/contracts';

/** The fields of one audit entry that the hash covers (everything but the hash itself). */
export interface AuditHashInput {
  id: string;
  seq: number;
  organizationId: string | null;
  /** Millisecond ISO-8601 (`toISOString()`), so the value survives a round trip through timestamptz. */
  occurredAt: string;
  actor: { type: ActorType; id: string | null; name: string };
  action: string;
  subject: { type: string; id: string | null; name: string | null };
  outcome: AuditOutcome;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  changes: Record<string, unknown>;
  prevHash: string | null;
}

/** Normalizes a timestamp to millisecond ISO-8601 (what the hash is computed over). */
export function msIso(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

/**
 * sha256 over the canonical JSON (keys sorted at every level) of the entry and the previous entry's hash. Version 1 of
 * the format; a future change of the covered fields must bump `v` so older entries still verify.
 */
export function computeAuditHash(e: AuditHashInput): string {
  return sha256(
    canonicalJson({
      v: 1,
      id: e.id,
      seq: e.seq,
      organizationId: e.organizationId,
      occurredAt: msIso(e.occurredAt),
      actor: { type: e.actor.type, id: e.actor.id, name: e.actor.name },
      action: e.action,
      subject: { type: e.subject.type, id: e.subject.id, name: e.subject.name },
      outcome: e.outcome,
      ip: e.ip,
      userAgent: e.userAgent,
      requestId: e.requestId,
      changes: e.changes,
      prevHash: e.prevHash,
    }),
  );
}

export const REDACTED = '[redacted]';

/** Keys whose names look secret. */
const SECRET_KEY = /password|secret|token|key|private/i;
/** Keys that match the pattern above but never hold a secret: key prefixes, scopes, roles, ids, public material. */
const SAFE_KEY = /^(prefix|keyPrefix|scopes|role|roles|publicKey|keyType|fingerprint|keyFingerprint)$|(Id|Ids|_id|_ids)$/;
/** Values that look like credentials whatever their key: Wharf API keys, JWTs, PEM private keys. */
const SECRET_VALUE = /^wk_[A-Za-z0-9]+_|^eyJ[\w-]+\.[\w-]+\.[\w-]+$|-----BEGIN [A-Z ]*PRIVATE KEY-----/;

/**
 * Defensive redaction of audit `changes`: any key that looks secret (password, secret, token, key, private) becomes
 * '[redacted]' unless it is a known-safe key (prefix, scopes, role, …Id); credential-shaped string values are redacted
 * wherever they appear. Callers are expected to redact already; this is the safety net.
 */
export function redactChanges(value: unknown, depth = 0): unknown {
  if (depth > 20) return REDACTED;
  if (typeof value === 'string') return SECRET_VALUE.test(value) ? REDACTED : value;
  if (Array.isArray(value)) return value.map((v) => redactChanges(v, depth + 1));
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v === undefined) continue;
      if (SECRET_KEY.test(k) && !SAFE_KEY.test(k)) out[k] = v === REDACTED ? v : REDACTED;
      else out[k] = redactChanges(v, depth + 1);
    }
    return out;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'function' || typeof value === 'symbol') return null;
  return value ?? null;
}

/** Redacts and normalizes `changes` to a plain JSON object (what jsonb stores and the hash covers). */
export function normalizeChanges(changes: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!changes) return {};
  // The JSON round trip makes the hashed value identical to what jsonb hands back later.
  return JSON.parse(JSON.stringify(redactChanges(changes))) as Record<string, unknown>;
}
