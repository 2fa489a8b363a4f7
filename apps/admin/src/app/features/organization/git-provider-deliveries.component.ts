import { DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, effect, inject, input, output, signal, untracked } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { firstValueFrom } from 'rxjs';
import { GitProvider, GitProviderDelivery, GitProvidersApi } from '../../core/api/git-providers-api.service';
import { Problem, toProblem } from '../../core/api/problem';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';

/**
 * The deliveries of a GitHub App connection's webhook, newest first: the event, the repository, the outcome (accepted
 * when an application acted on it; ignored or rejected with the reason) and how many applications it was handed to
 * (each lists it in its Source tab too).
 */
@Component({
  selector: 'w-git-provider-deliveries',
  imports: [DatePipe, MatButtonModule, ProblemAlertComponent],
  template: `
    <section class="w-card" [attr.aria-label]="'Webhook deliveries of ' + provider().name" data-testid="git-provider-deliveries">
      <div class="w-row">
        <h3>Webhook deliveries of {{ provider().name }}</h3>
        <span class="w-spacer"></span>
        <button mat-stroked-button type="button" (click)="load()" [disabled]="loading()">Refresh</button>
        <button mat-button type="button" (click)="closed.emit()">Close</button>
      </div>
      <w-problem [problem]="problem()" />
      @if (deliveries(); as list) {
        @if (list.length === 0) {
          <p class="w-muted">No deliveries yet.</p>
        } @else {
          <table class="w-table" aria-label="Connection webhook deliveries">
            <thead><tr><th scope="col">Time</th><th scope="col">Event</th><th scope="col">Repository</th><th scope="col">Outcome</th><th scope="col">Reason</th><th scope="col">Applications</th></tr></thead>
            <tbody>
              @for (d of list; track d.id) {
                <tr [attr.data-delivery]="d.deliveryId">
                  <td>{{ d.receivedAt | date: 'medium' }}</td>
                  <td>{{ d.event ?? '—' }}</td>
                  <td>{{ d.repository ?? '—' }}</td>
                  <td><span [class]="'chip ' + d.outcome">{{ d.outcome }}</span></td>
                  <td class="reason">{{ d.reason ?? '' }}</td>
                  <td>{{ d.applications }}</td>
                </tr>
              }
            </tbody>
          </table>
        }
      } @else if (!problem()) {
        <p class="w-muted">Loading deliveries…</p>
      }
    </section>
  `,
  styles: `
    h3 { margin: 0; }
    .reason { max-width: 28em; overflow-wrap: anywhere; }
    .chip { display: inline-block; padding: 1px 8px; border-radius: 10px; font: var(--mat-sys-label-medium); border: 1px solid currentColor; }
    .accepted { color: light-dark(#146c2e, #6dd58c); } .rejected { color: var(--mat-sys-error); } .ignored { color: var(--mat-sys-on-surface-variant); }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class GitProviderDeliveriesComponent {
  private readonly api = inject(GitProvidersApi);
  readonly provider = input.required<GitProvider>();
  readonly closed = output<void>();
  readonly deliveries = signal<GitProviderDelivery[] | null>(null);
  readonly problem = signal<Problem | null>(null);
  readonly loading = signal(false);

  constructor() {
    effect(() => {
      if (this.provider().id) untracked(() => void this.load());
    });
  }

  async load(): Promise<void> {
    this.loading.set(true);
    this.problem.set(null);
    try {
      this.deliveries.set(await firstValueFrom(this.api.deliveries(this.provider().id)));
    } catch (e) {
      this.problem.set(toProblem(e));
    } finally {
      this.loading.set(false);
    }
  }
}
