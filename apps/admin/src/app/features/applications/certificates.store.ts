import { computed, DestroyRef, effect, inject, Injectable, signal, untracked } from '@angular/core';
import { firstValueFrom, Subscription } from 'rxjs';
import { Certificate, CertificatesApi } from '../../core/api/certificates-api.service';
import { Problem, toProblem } from '../../core/api/problem';
import { LiveEvents } from '../../core/live/live-events';
import { ApplicationStore } from './application.store';

/**
 * The certificates of the application's domains (provided by the Domains tab): one request for every row, reloaded
 * after an action taken here and on the organization's live `certificate.*` and `domain.*` events about the
 * application (a domain's change may order, replace or drop its certificate).
 */
@Injectable()
export class CertificatesStore {
  private readonly api = inject(CertificatesApi);
  private readonly app = inject(ApplicationStore);
  private readonly live = inject(LiveEvents);
  /** null until the first answer. */
  readonly certificates = signal<Certificate[] | null>(null);
  readonly problem = signal<Problem | null>(null);
  /** The certificate of each domain, by domain id. */
  readonly byDomain = computed(() => new Map((this.certificates() ?? []).map((c) => [c.domainId, c])));
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
    this.certificates.set(null);
    this.events?.unsubscribe();
    this.events = this.live.watch(orgId).subscribe((m) => {
      if (m.kind === 'resync' || (/^(certificate|domain)\./.test(m.event.type) && m.event.payload.applicationId === this.id)) void this.load();
    });
    void this.load();
  }

  async load(): Promise<void> {
    const id = this.id;
    if (!id) return;
    try {
      const list = await firstValueFrom(this.api.forApplication(id));
      if (this.id !== id) return;
      this.certificates.set(list);
      this.problem.set(null);
    } catch (e) {
      if (this.id !== id) return;
      this.problem.set(toProblem(e));
      this.certificates.update((c) => c ?? []);
    }
  }
}
