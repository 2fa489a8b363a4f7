import { DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, computed, effect, inject, signal, untracked } from '@angular/core';
import { firstValueFrom } from 'rxjs';
import { Deployment } from '../../core/api/api-types';
import { ResourcesApi } from '../../core/api/resources-api.service';
import { StatusChipComponent } from '../../shared/ui/status-chip.component';
import { ApplicationStore } from './application.store';
import { applicationState, openUrl } from './application-actions';

/** State from the real Swarm tasks, replicas, image and the digest the last successful deployment ran, ports. */
@Component({
  selector: 'w-app-overview',
  imports: [DatePipe, StatusChipComponent],
  template: `
    @if (store.app(); as a) {
      <dl class="facts">
        <dt>State</dt><dd>@if (state(); as st) { <w-status [state]="st" /> } <span data-testid="replicas">{{ store.status()?.running ?? 0 }}/{{ store.status()?.desired ?? a.spec.replicas }} running</span></dd>
        <dt>Desired state</dt><dd>{{ a.desiredState }}</dd>
        <dt>Image</dt><dd><code>{{ a.spec.image }}</code></dd>
        <dt>Digest</dt><dd><code data-testid="digest">{{ digest() ?? 'not deployed yet' }}</code></dd>
        <dt>Swarm service</dt><dd><code>{{ a.serviceName }}</code></dd>
        <dt>Ports</dt>
        <dd>
          @for (p of a.spec.ports ?? []; track $index) {
            <div>
              {{ p.target }}/{{ p.protocol }} → {{ p.published ?? 'engine-assigned' }} ({{ p.mode }})
              @if (p.published && p.protocol === 'tcp') {
                <a [href]="open(p.published)" target="_blank" rel="noopener" [attr.aria-label]="'Open port ' + p.published + ' in a new tab'">Open</a>
              }
            </div>
          } @empty { none }
        </dd>
        <dt>Server</dt><dd>{{ store.status()?.server?.name ?? '—' }}</dd>
      </dl>
      <h2>Tasks</h2>
      @if (store.status()?.tasks?.length) {
        <table class="w-table" aria-label="Tasks">
          <thead><tr><th scope="col">Task</th><th scope="col">State</th><th scope="col">Published ports</th><th scope="col">Message</th></tr></thead>
          <tbody>
            @for (t of store.status()!.tasks; track $index) {
              <tr>
                <td><code>{{ (t.id ?? '').slice(0, 12) }}</code></td>
                <td><w-status [state]="t.state" /></td>
                <td>{{ portsOf(t) }}</td>
                <td>{{ t.error ?? t.message ?? '' }}</td>
              </tr>
            }
          </tbody>
        </table>
      } @else {
        <p class="w-muted">No tasks.</p>
      }
      @if (store.status()?.observedAt) {
        <p class="w-muted">Observed {{ store.status()!.observedAt | date: 'medium' }}</p>
      }
    }
  `,
  styles: `.facts { display: grid; grid-template-columns: max-content 1fr; gap: 6px 16px; } dt { color: var(--mat-sys-on-surface-variant); } dd { margin: 0; }`,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class OverviewTab {
  readonly store = inject(ApplicationStore);
  private readonly api = inject(ResourcesApi);
  private readonly last = signal<Deployment | null>(null);
  readonly digest = computed(() => this.last()?.imageDigest ?? null);
  readonly state = computed(() => applicationState(this.store.status()));
  /** The published port on the host the portal is opened on (the server's address as the browser knows it). */
  open(port: number): string {
    return openUrl(location.hostname, port);
  }

  constructor() {
    effect(() => {
      const a = this.store.app();
      if (a) untracked(() => firstValueFrom(this.api.deployments(a.id)).then((p) => this.last.set(p.items.find((d) => d.status === 'succeeded') ?? null), () => undefined));
    });
  }

  portsOf(t: { ports?: Array<{ target: number; published: number }> }): string {
    return (t.ports ?? []).map((p) => `${p.published}→${p.target}`).join(', ') || '—';
  }
}
