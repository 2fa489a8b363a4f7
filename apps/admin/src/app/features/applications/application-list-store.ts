import { DestroyRef, effect, inject, signal, untracked } from '@angular/core';
import { firstValueFrom, Observable, Subscription } from 'rxjs';
import { Problem, toProblem } from '../../core/api/problem';
import { LiveEvents } from '../../core/live/live-events';
import { ApplicationStore } from './application.store';

/**
 * A list that belongs to the application the screen shows (its domains, its certificates): loaded when the application
 * is opened, reloaded by `load()` after a change made on the screen and on the organization's live events about the
 * application whose type matches `events` (and on a resync). An answer for an application no longer shown is dropped.
 */
export abstract class ApplicationListStore<T> {
  private readonly app = inject(ApplicationStore);
  private readonly live = inject(LiveEvents);
  /** null until the first answer. */
  readonly items = signal<T[] | null>(null);
  readonly problem = signal<Problem | null>(null);
  private id: string | null = null;
  private subscription: Subscription | null = null;

  protected abstract fetch(applicationId: string): Observable<T[]>;
  /** The live event types that may change the list. */
  protected abstract readonly events: RegExp;

  constructor() {
    effect(() => {
      const a = this.app.app();
      if (a && a.id !== this.id) untracked(() => this.open(a.id, a.organizationId));
    });
    inject(DestroyRef).onDestroy(() => this.subscription?.unsubscribe());
  }

  private open(id: string, orgId: string): void {
    this.id = id;
    this.items.set(null);
    this.subscription?.unsubscribe();
    this.subscription = this.live.watch(orgId).subscribe((m) => {
      if (m.kind === 'resync' || (this.events.test(m.event.type) && m.event.payload.applicationId === this.id)) void this.load();
    });
    void this.load();
  }

  async load(): Promise<void> {
    const id = this.id;
    if (!id) return;
    try {
      const list = await firstValueFrom(this.fetch(id));
      if (this.id !== id) return;
      this.items.set(list);
      this.problem.set(null);
    } catch (e) {
      if (this.id !== id) return;
      this.problem.set(toProblem(e));
      this.items.update((c) => c ?? []);
    }
  }
}
