import { ChangeDetectionStrategy, Component, computed, DestroyRef, effect, inject, input, signal, untracked } from '@angular/core';
import { Router } from '@angular/router';
import { firstValueFrom } from 'rxjs';
import { ResourcesApi, Teardown } from '../../core/api/resources-api.service';

/** How often the list is asked again while a teardown is queued or running (and only then). */
export const TEARDOWN_POLL_MS = 3000;
/** A finished teardown stays on screen this long after it ended (its result or error). */
export const TEARDOWN_SHOWN_AFTER_MS = 10 * 60_000;
/** How long the screen waits for the teardown of a deletion it was just told about (the row is written right after). */
export const TEARDOWN_EXPECT_MS = 30_000;

/** Navigation state a screen passes after a deletion: the id of what was deleted, whose teardown to look for. */
export interface TeardownNavigationState {
  teardown?: string;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const inProgress = (t: Teardown) => t.status === 'queued' || t.status === 'running';

/** "2 services, 1 network" (and volumes when the deletion removes them): what the teardown removed so far. */
export function removedSummary(t: Teardown): string {
  const parts = [plural(t.removed.services.length, 'service')];
  if (t.scope !== 'project' || t.removed.networks.length) parts.push(plural(t.removed.networks.length, 'network'));
  if (t.removeVolumes || t.removed.volumes.length) parts.push(plural(t.removed.volumes.length, 'volume'));
  return parts.join(', ');
}

/** One line per teardown: in progress, done, or failed. */
export function teardownLine(t: Teardown): string {
  const what = `${t.scope} ${t.subjectName}`;
  switch (t.status) {
    case 'queued':
      return t.error ? `Removing ${what}: ${removedSummary(t)}… retrying after: ${t.error}` : `Removing ${what}: waiting for the worker…`;
    case 'running':
      return `Removing ${what}: ${removedSummary(t)}…`;
    case 'succeeded':
      return `Removed ${what}: ${removedSummary(t)}`;
    case 'failed':
      return `Removing ${what} failed: ${t.error ?? 'unknown error'}`;
  }
}

/**
 * The engine teardowns of deleted projects and environments (of the organization, or of one project): each one while
 * it is queued or running, counting up what it removed, then its result or error for a while. The list is asked again
 * every few seconds only while one is in progress (or while the teardown of a deletion this screen was navigated to
 * after has not shown up yet).
 */
@Component({
  selector: 'w-teardown-progress',
  template: `
    @if (shown().length) {
      <section class="w-card teardowns" aria-label="Removals">
        <div role="status" aria-live="polite">
          <ul>
            @for (t of shown(); track t.id) {
              <li [class]="t.status" [attr.data-status]="t.status">{{ line(t) }}</li>
            }
          </ul>
        </div>
      </section>
    }
  `,
  styles: `
    .teardowns { margin: 0 0 12px; }
    ul { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 4px; }
    .failed { color: var(--mat-sys-error); }
    .succeeded { color: var(--mat-sys-on-surface-variant); }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class TeardownProgressComponent {
  private readonly api = inject(ResourcesApi);
  readonly orgId = input.required<string | null>();
  /** Only this project's teardowns (its own and its environments'). */
  readonly projectId = input<string | null>(null);
  readonly pollMs = input(TEARDOWN_POLL_MS);
  readonly items = signal<Teardown[]>([]);
  readonly line = teardownLine;
  /** The subject whose teardown the screen waits for (from the navigation after a deletion), and until when. */
  private expected: { id: string; until: number } | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private destroyed = false;

  readonly shown = computed(() => {
    const now = Date.now();
    return this.items().filter((t) => inProgress(t) || t.subjectId === this.expected?.id || now - Date.parse(t.updatedAt) < TEARDOWN_SHOWN_AFTER_MS);
  });

  constructor() {
    const state = (inject(Router).currentNavigation()?.extras.state ?? (typeof history !== 'undefined' ? history.state : null)) as TeardownNavigationState | null;
    if (typeof state?.teardown === 'string') this.expected = { id: state.teardown, until: Date.now() + TEARDOWN_EXPECT_MS };
    effect(() => {
      const orgId = this.orgId();
      const projectId = this.projectId();
      if (orgId) untracked(() => void this.refresh(orgId, projectId));
    });
    inject(DestroyRef).onDestroy(() => {
      this.destroyed = true;
      if (this.timer) clearTimeout(this.timer);
    });
  }

  async refresh(orgId: string, projectId: string | null): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    try {
      this.items.set((await firstValueFrom(this.api.teardowns(orgId, projectId ?? undefined))).items);
    } catch {
      // Not visible (or the API is briefly away): nothing is shown; a pending poll tries again.
    }
    if (this.destroyed || orgId !== this.orgId() || projectId !== this.projectId()) return;
    const waiting = this.expected && !this.items().some((t) => t.subjectId === this.expected!.id) && Date.now() < this.expected.until;
    if (this.items().some(inProgress) || waiting) this.timer = setTimeout(() => void this.refresh(orgId, projectId), this.pollMs());
  }
}
