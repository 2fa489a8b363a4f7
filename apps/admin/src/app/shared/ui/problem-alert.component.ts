import { ChangeDetectionStrategy, Component, input } from '@angular/core';
import type { Problem } from '../../core/api/problem';

/** An API error shown where it happened (role="alert" so screen readers announce it). */
@Component({
  selector: 'w-problem',
  template: `
    @if (problem(); as p) {
      <div class="problem" role="alert">
        <strong>{{ p.title }}</strong>
        <span>{{ p.detail }}</span>
        @if (p.requestId) {
          <small class="w-muted">Request {{ p.requestId }}</small>
        }
      </div>
    }
  `,
  styles: `
    .problem {
      display: flex; flex-direction: column; gap: 2px; margin: 8px 0 16px; padding: 12px 16px; border-radius: 8px;
      background: var(--mat-sys-error-container); color: var(--mat-sys-on-error-container);
    }
    .problem small { color: inherit; opacity: 0.9; }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ProblemAlertComponent {
  readonly problem = input<Problem | null>(null);
}
