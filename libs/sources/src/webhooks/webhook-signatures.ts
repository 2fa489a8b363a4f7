/**
 * Who sent a webhook delivery: the signature (or token) of each provider checked in constant time against the secret
 * Wharf holds, the delivery id (for de-duplication) and the event name, from the exact headers each provider sends.
 *  - GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`, `X-GitHub-Delivery`, `X-GitHub-Event`.
 *  - GitLab: `X-Gitlab-Token: <the secret>` (GitLab signs nothing), `X-Gitlab-Event-UUID`, `X-Gitlab-Event`.
 *  - Gitea / Forgejo: `X-Gitea-Signature` / `X-Forgejo-Signature: <hex HMAC-SHA256>`, `X-Gitea-Delivery`, `X-Gitea-Event`.
 *  - Bitbucket Cloud: `X-Hub-Signature: sha256=<hex HMAC-SHA256>`, `X-Request-UUID`, `X-Event-Key`.
 *  - generic (anything that can sign): `X-Wharf-Timestamp: <unix seconds>` and
 *    `X-Wharf-Signature-256: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`, optional `X-Wharf-Delivery`; the
 *    timestamp must be within the replay window, so a captured delivery cannot be sent again later.
 * Providers' own deliveries carry no signed time: their replays are stopped by the delivery id, which the caller
 * records and refuses to process twice.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const WEBHOOK_PROVIDERS = ['github', 'gitlab', 'gitea', 'bitbucket', 'generic'] as const;
export type WebhookProvider = (typeof WEBHOOK_PROVIDERS)[number];

export type Headers = Record<string, string | string[] | undefined>;

export type WebhookRejection =
  | 'too-large'
  | 'missing-signature'
  | 'bad-signature'
  | 'missing-event'
  | 'missing-timestamp'
  | 'stale-timestamp';

export type VerifiedDelivery = { ok: true; deliveryId: string; event: string } | { ok: false; reason: WebhookRejection; detail: string };

export interface VerifyOptions {
  /** Bodies larger than this are refused before any parsing (default 1 MiB). */
  maxBytes?: number;
  /** Generic deliveries: how far the signed timestamp may be from now, either way (default 300 s). */
  replayWindowSeconds?: number;
  now?: Date;
}

export const DEFAULT_WEBHOOK_MAX_BYTES = 1024 * 1024;
export const DEFAULT_REPLAY_WINDOW_SECONDS = 300;
const DELIVERY_ID = /^[A-Za-z0-9{}._:-]{1,200}$/;
const EVENT_NAME = /^[A-Za-z0-9 :_.-]{1,100}$/;

/** A header by name, case-insensitively (Node lowercases them; other callers may not); the first of repeated ones. */
function header(h: Headers, name: string): string | undefined {
  const lower = name.toLowerCase();
  const key = lower in h ? lower : Object.keys(h).find((k) => k.toLowerCase() === lower);
  const v = key === undefined ? undefined : h[key];
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' && s.length > 0 ? s.trim() : undefined;
}

/** Equal in constant time whatever the lengths (both sides are hashed to 32 bytes first). */
export function constantTimeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db) && Buffer.byteLength(a) === Buffer.byteLength(b);
}

const hmacHex = (secret: string, ...parts: Array<string | Buffer>) => {
  const mac = createHmac('sha256', secret);
  for (const p of parts) mac.update(p);
  return mac.digest('hex');
};

/** `sha256=<64 hex>` → the hex (lower case), or null for anything else. */
function sha256Hex(value: string | undefined, prefixed: boolean): string | null {
  if (!value) return null;
  const m = (prefixed ? /^sha256=([0-9a-fA-F]{64})$/ : /^([0-9a-fA-F]{64})$/).exec(value);
  return m ? m[1].toLowerCase() : null;
}

/**
 * Checks a delivery for `provider` with `secret`. Never throws on hostile input; the rejection names what was wrong
 * (never the secret or the expected signature).
 */
export function verifyWebhook(provider: WebhookProvider, headers: Headers, body: Buffer, secret: string, options: VerifyOptions = {}): VerifiedDelivery {
  const maxBytes = options.maxBytes ?? DEFAULT_WEBHOOK_MAX_BYTES;
  if (body.length > maxBytes) return { ok: false, reason: 'too-large', detail: `the body is larger than ${maxBytes} bytes` };
  if (!secret) return { ok: false, reason: 'bad-signature', detail: 'no secret is set for this webhook' };
  const fail = (reason: WebhookRejection, detail: string): VerifiedDelivery => ({ ok: false, reason, detail });
  const bodyHash = () => createHash('sha256').update(body).digest('hex');
  const delivery = (name: string | undefined, fallback: () => string) => (name && DELIVERY_ID.test(name) ? name : fallback());
  const eventOf = (name: string | undefined) => (name && EVENT_NAME.test(name) ? name : undefined);

  switch (provider) {
    case 'github': {
      const sig = header(headers, 'x-hub-signature-256');
      if (!sig) return fail('missing-signature', 'X-Hub-Signature-256 is missing');
      const got = sha256Hex(sig, true);
      if (!got || !constantTimeEqual(got, hmacHex(secret, body))) return fail('bad-signature', 'X-Hub-Signature-256 does not match the body and the secret');
      const event = eventOf(header(headers, 'x-github-event'));
      if (!event) return fail('missing-event', 'X-GitHub-Event is missing');
      return { ok: true, event, deliveryId: delivery(header(headers, 'x-github-delivery'), bodyHash) };
    }
    case 'gitlab': {
      const token = header(headers, 'x-gitlab-token');
      if (!token) return fail('missing-signature', 'X-Gitlab-Token is missing');
      if (!constantTimeEqual(token, secret)) return fail('bad-signature', 'X-Gitlab-Token does not match the secret');
      const event = eventOf(header(headers, 'x-gitlab-event'));
      if (!event) return fail('missing-event', 'X-Gitlab-Event is missing');
      return { ok: true, event, deliveryId: delivery(header(headers, 'x-gitlab-event-uuid') ?? header(headers, 'x-gitlab-webhook-uuid'), bodyHash) };
    }
    case 'gitea': {
      const sig = header(headers, 'x-gitea-signature') ?? header(headers, 'x-forgejo-signature');
      if (!sig) return fail('missing-signature', 'X-Gitea-Signature (or X-Forgejo-Signature) is missing');
      const got = sha256Hex(sig, false);
      if (!got || !constantTimeEqual(got, hmacHex(secret, body))) return fail('bad-signature', 'X-Gitea-Signature does not match the body and the secret');
      const event = eventOf(header(headers, 'x-gitea-event') ?? header(headers, 'x-forgejo-event'));
      if (!event) return fail('missing-event', 'X-Gitea-Event is missing');
      return { ok: true, event, deliveryId: delivery(header(headers, 'x-gitea-delivery') ?? header(headers, 'x-forgejo-delivery'), bodyHash) };
    }
    case 'bitbucket': {
      const sig = header(headers, 'x-hub-signature');
      if (!sig) return fail('missing-signature', 'X-Hub-Signature is missing');
      const got = sha256Hex(sig, true);
      if (!got || !constantTimeEqual(got, hmacHex(secret, body))) return fail('bad-signature', 'X-Hub-Signature does not match the body and the secret');
      const event = eventOf(header(headers, 'x-event-key'));
      if (!event) return fail('missing-event', 'X-Event-Key is missing');
      return { ok: true, event, deliveryId: delivery(header(headers, 'x-request-uuid') ?? header(headers, 'x-hook-uuid'), bodyHash) };
    }
    case 'generic': {
      const sig = header(headers, 'x-wharf-signature-256');
      if (!sig) return fail('missing-signature', 'X-Wharf-Signature-256 is missing');
      const ts = header(headers, 'x-wharf-timestamp');
      if (!ts || !/^\d{1,12}$/.test(ts)) return fail('missing-timestamp', 'X-Wharf-Timestamp (unix seconds) is missing');
      const got = sha256Hex(sig, true);
      if (!got || !constantTimeEqual(got, hmacHex(secret, ts, '.', body))) return fail('bad-signature', 'X-Wharf-Signature-256 does not match "<timestamp>.<body>" and the secret');
      const window = options.replayWindowSeconds ?? DEFAULT_REPLAY_WINDOW_SECONDS;
      const skew = Math.abs((options.now ?? new Date()).getTime() / 1000 - Number(ts));
      if (skew > window) return fail('stale-timestamp', `X-Wharf-Timestamp is ${Math.round(skew)} s away from now (at most ${window} s)`);
      // The signature covers the timestamp, so the same body sent twice in the window is two deliveries only when
      // the sender says so with X-Wharf-Delivery; otherwise it is one (the hash of timestamp and body).
      return { ok: true, event: eventOf(header(headers, 'x-wharf-event')) ?? 'push', deliveryId: delivery(header(headers, 'x-wharf-delivery'), () => createHash('sha256').update(`${ts}.`).update(body).digest('hex')) };
    }
  }
}

/** What a generic sender computes (documented for users; also used by tests). */
export function signGenericWebhook(secret: string, body: string | Buffer, timestamp: number): Record<string, string> {
  return { 'X-Wharf-Timestamp': String(timestamp), 'X-Wharf-Signature-256': `sha256=${hmacHex(secret, String(timestamp), '.', body)}` };
}
