import { DestroyRef, effect, inject, Signal, untracked } from '@angular/core';
import { LiveEvents, type LiveEvent } from './live-events';

/**
 * How long after a deployment ends a screen asks again: the worker records the service's task state (what lists
 * show as running/stopped) a moment after the deployment's own event.
 */
export const LIVE_SETTLE_MS = 3_000;

const DEPLOYMENT_ENDED = /^deployment\.(succeeded|failed|cancelled|rolled-back|superseded)$/;

/**
 * Keeps a screen current from the organization's live events (call in an injection context): `refresh` runs when an
 * event `relevant` to the screen arrives, and after the stream came back from a drop. Refreshes never overlap — events
 * arriving meanwhile cause one more run after it — and a deployment's end is followed by one more after LIVE_SETTLE_MS.
 */
export function liveRefresh(orgId: Signal<string | null | undefined>, relevant: (e: LiveEvent) => boolean, refresh: () => Promise<void>): void {
  const live = inject(LiveEvents);
  let running: Promise<void> | null = null;
  let again = false;
  let settle: ReturnType<typeof setTimeout> | null = null;
  const run = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = refresh()
      .catch(() => undefined)
      .finally(() => {
        running = null;
        if (again) {
          again = false;
          run();
        }
      });
  };
  effect((onCleanup) => {
    const id = orgId();
    if (!id) return;
    const sub = live.watch(id).subscribe((m) =>
      untracked(() => {
        if (m.kind === 'resync') return run();
        if (!relevant(m.event)) return;
        run();
        if (DEPLOYMENT_ENDED.test(m.event.type)) {
          if (settle) clearTimeout(settle);
          settle = setTimeout(() => {
            settle = null;
            run();
          }, LIVE_SETTLE_MS);
        }
      }),
    );
    onCleanup(() => sub.unsubscribe());
  });
  inject(DestroyRef).onDestroy(() => {
    if (settle) clearTimeout(settle);
  });
}
