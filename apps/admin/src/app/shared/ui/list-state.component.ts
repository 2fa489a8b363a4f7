import { ChangeDetectionStrategy, Component, input, output } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import type { Problem } from '../../core/api/problem';
import { ProblemAlertComponent } from './problem-alert.component';

/** Loading, error (with retry) and empty states around a list; the list itself is projected. */
@Component({
  selector: 'w-list-state',
  imports: [MatProgressBarModule, MatButtonModule, ProblemAlertComponent],
  template: `
    @if (loading()) {
      <mat-progress-bar mode="indeterminate" aria-label="Loading" />
    }
    @if (error(); as e) {
      <w-problem [problem]="e" />
      <button mat-button type="button" (click)="retry.emit()">Try again</button>
    } @else if (!loading() && count() === 0) {
      <p class="empty w-muted">{{ emptyText() }}</p>
    } @else {
      <ng-content />
    }
  `,
  styles: `.empty { padding: 16px 0; }`,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ListStateComponent {
  readonly loading = input(false);
  readonly error = input<Problem | null>(null);
  readonly count = input<number | null | undefined>(null);
  readonly emptyText = input('Nothing here yet.');
  readonly retry = output<void>();
}
