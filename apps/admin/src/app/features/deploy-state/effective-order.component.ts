import { ChangeDetectionStrategy, Component, input } from '@angular/core';
import type { Application } from '../../core/api/api-types';

/** The order deployments really use next to the chosen one, and why they differ (computed by the API from the host). */
@Component({
  selector: 'w-effective-order',
  template: `
    @if (order(); as o) {
      <div class="eff" role="note" aria-label="Effective update order">
        <p>Chosen update order: <strong>{{ o.update.chosen }}</strong>. Effective update order: <strong data-testid="effective-update-order">{{ o.update.effective }}</strong>.</p>
        @if (o.update.reason) { <p class="reason">{{ o.update.reason }}</p> }
        @if (o.rollback.reason) { <p class="reason">{{ o.rollback.reason }}</p> }
      </div>
    }
  `,
  styles: `.eff { margin: 0 0 8px; } .eff p { margin: 4px 0; } .reason { border-left: 4px solid var(--mat-sys-tertiary, #7d5260); padding-left: 8px; }`,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class EffectiveOrderComponent {
  readonly order = input<Application['updateOrder'] | null | undefined>(null);
}
