import { DestroyRef, effect, inject, Injectable, signal, untracked } from '@angular/core';
import { firstValueFrom, Subscription } from 'rxjs';
import { Domain, DomainsApi } from '../../core/api/domains-api.service';
import { Problem, toProblem } from '../../core/api/problem';
import { LiveEvents } from '../../core/live/live-events';
import { ApplicationStore } from './application.store';

/**
 * The domains of the application the screen shows (provided by the application layout next to ApplicationStore): the
 * header's Open links and the Domains tab read the same list. Loaded when the application is opened, reloaded after
 * a change made here and on the organization's live `domain.*` events about the application.
 */
@Injectable()
export class DomainsStore {
  private readonly api = inject(DomainsApi);
  private readonly app = inject(ApplicationStore);
  private readonly live = inject(LiveEvents);
  /** null until the first answer. */
  readonly domains = signal<Domain[] | null>(null);
  readonly problem = signal<Problem | null>(null);
  private id: string | null = null;
  private events: Subscription | null = null;

  constructor() {
    effect(() => {
      const a = this.app.app();
      if (a && a.id !== this.id) untracked(() => this.open(a.id, a.organizationId));
    });
    inject(DestroyRef).onDestroy(() => this.events?.unsubscribe());
  }

  private open(id: string, orgId: string): void {
    this.id = id;
    this.domains.set(null);
    this.events?.unsubscribe();
    this.events = this.live.watch(orgId).subscribe((m) => {
      if (m.kind === 'resync' || (m.event.type.startsWith('domain.') && m.event.payload.applicationId === this.id)) void this.load();
    });
    void this.load();
  }

  async load(): Promise<void> {
    const id = this.id;
    if (!id) return;
    try {
      const list = await firstValueFrom(this.api.list(id));
      if (this.id !== id) return;
      this.domains.set(list);
      this.problem.set(null);
    } catch (e) {
      if (this.id !== id) return;
      this.problem.set(toProblem(e));
      this.domains.update((d) => d ?? []);
    }
  }
}
