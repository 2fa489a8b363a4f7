import { effect, inject, Injectable, Injector, signal } from '@angular/core';
import { Router } from '@angular/router';
import { MatSnackBar } from '@angular/material/snack-bar';
import { Observable, share } from 'rxjs';
import type { LiveEvent } from '@wharf/contracts';
import { ApiClient } from '../api/api-client.gen';
import { OrgContext } from '../org/org-context.service';
import { EVENT_SOURCE, EventSourceLike } from './event-stream';

export type { LiveEvent } from '@wharf/contracts';

/**
 * What a watcher of an organization's live stream receives: an event (each id once), or `resync` after the stream
 * came back from a drop (events may have been missed meanwhile: reload what you show).
 */
export type LiveMessage = { kind: 'event'; event: LiveEvent } | { kind: 'resync' };

/** Waits before reconnecting after a drop, growing with each failed attempt (the last one repeats). */
export const LIVE_BACKOFF_MS: readonly number[] = [1_000, 2_000, 5_000, 10_000, 30_000];
/** How many event ids are remembered for dedupe (delivery is at least once). */
const SEEN_MAX = 500;

/**
 * The organization's live domain events (`GET /organizations/{orgId}/events`, Server-Sent Events): one EventSource per
 * organization, shared by every watcher and closed when the last one leaves; reconnects with backoff after a drop and
 * hands out each event id once.
 */
@Injectable({ providedIn: 'root' })
export class LiveEvents {
  private readonly factory = inject(EVENT_SOURCE);
  private readonly api = inject(ApiClient);
  private readonly streams = new Map<string, Observable<LiveMessage>>();
  /** Whether the stream of some organization is currently open (subscribed on the server). */
  readonly connected = signal(false);

  watch(orgId: string): Observable<LiveMessage> {
    let s = this.streams.get(orgId);
    if (!s) {
      s = this.open(orgId).pipe(share());
      this.streams.set(orgId, s);
    }
    return s;
  }

  private open(orgId: string): Observable<LiveMessage> {
    return new Observable<LiveMessage>((sub) => {
      let es: EventSourceLike | null = null;
      let timer: ReturnType<typeof setTimeout> | null = null;
      let attempt = 0;
      let wasReady = false;
      let stopped = false;
      const seen = new Set<string>();
      const order: string[] = [];

      const retry = (from: EventSourceLike): void => {
        if (stopped || from !== es) return;
        from.close();
        es = null;
        this.connected.set(false);
        const delay = LIVE_BACKOFF_MS[Math.min(attempt, LIVE_BACKOFF_MS.length - 1)];
        attempt++;
        timer = setTimeout(connect, delay);
      };
      const connect = (): void => {
        timer = null;
        if (stopped) return;
        let current: EventSourceLike;
        try {
          current = this.factory(this.api.organizationEventsStreamUrl({ path: { orgId } }));
        } catch {
          // No EventSource here (an old browser, a test environment): the screens' fallback polls still work.
          this.connected.set(false);
          return;
        }
        es = current;
        current.addEventListener('ready', () => {
          if (current !== es) return;
          attempt = 0;
          this.connected.set(true);
          if (wasReady) sub.next({ kind: 'resync' });
          wasReady = true;
        });
        current.addEventListener('domain', (e) => {
          if (current !== es) return;
          let event: LiveEvent;
          try {
            event = JSON.parse(e.data ?? '') as LiveEvent;
          } catch {
            return;
          }
          if (!event?.id || seen.has(event.id)) return;
          seen.add(event.id);
          order.push(event.id);
          if (order.length > SEEN_MAX) seen.delete(order.shift()!);
          sub.next({ kind: 'event', event });
        });
        current.addEventListener('end', (e) => {
          let reason: string | undefined;
          try {
            reason = (JSON.parse(e.data ?? '{}') as { reason?: string }).reason;
          } catch {
            reason = undefined;
          }
          if (reason === 'not-a-member') {
            // Removed from the organization: nothing more will come.
            stopped = true;
            current.close();
            this.connected.set(false);
            sub.complete();
            return;
          }
          retry(current);
        });
        // A dropped connection (and a server-sent `event: error`): close, and come back after the backoff.
        current.addEventListener('error', () => retry(current));
      };

      connect();
      return () => {
        stopped = true;
        if (timer) clearTimeout(timer);
        es?.close();
        es = null;
        this.connected.set(false);
        this.streams.delete(orgId);
      };
    });
  }
}

/**
 * Toasts for the current organization's finished deployments (started once by the shell). The deployments tab that
 * follows a deployment's log toasts it itself; this one covers the rest of the portal.
 */
@Injectable({ providedIn: 'root' })
export class LiveToasts {
  private readonly live = inject(LiveEvents);
  private readonly orgs = inject(OrgContext);
  private readonly snack = inject(MatSnackBar);
  private readonly router = inject(Router);
  private readonly injector = inject(Injector);
  private started = false;

  start(): void {
    if (this.started) return;
    this.started = true;
    effect(
      (onCleanup) => {
        const orgId = this.orgs.currentId();
        if (!orgId) return;
        const sub = this.live.watch(orgId).subscribe((m) => {
          if (m.kind === 'event') this.toast(orgId, m.event);
        });
        onCleanup(() => sub.unsubscribe());
      },
      { injector: this.injector },
    );
  }

  private toast(orgId: string, e: LiveEvent): void {
    if (e.type !== 'deployment.succeeded' && e.type !== 'deployment.failed') return;
    // The application's deployments tab toasts the deployment it follows itself.
    const appId = e.payload.applicationId;
    if (appId && this.router.url.includes(`/applications/${appId}/deployments`)) return;
    const msg = e.type === 'deployment.succeeded' ? 'Deployment succeeded' : `Deployment failed${e.payload.error ? `: ${e.payload.error.slice(0, 120)}` : ''}`;
    const ref = this.snack.open(msg, appId ? 'Open' : 'Dismiss', { duration: 6000, politeness: 'polite' });
    if (appId) ref.onAction().subscribe(() => void this.router.navigate(['/orgs', orgId, 'applications', appId, 'deployments']));
  }
}
