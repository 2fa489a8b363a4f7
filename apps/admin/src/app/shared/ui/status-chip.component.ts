import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';

/** A service or deployment state as a small labelled chip (text, not colour alone, carries the meaning). */
@Component({
  selector: 'w-status',
  template: `<span class="chip" [class]="'chip ' + tone()" data-testid="status">{{ state() }}</span>`,
  styles: `
    .chip { display: inline-block; padding: 1px 8px; border-radius: 10px; font: var(--mat-sys-label-medium); border: 1px solid currentColor; }
    .ok { color: var(--mat-sys-primary); } .bad { color: var(--mat-sys-error); } .busy { color: var(--mat-sys-tertiary); } .idle { color: var(--mat-sys-on-surface-variant); }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class StatusChipComponent {
  readonly state = input.required<string>();
  readonly tone = computed(() => {
    const s = this.state();
    if (s === 'running' || s === 'succeeded') return 'ok';
    if (['failed', 'degraded', 'missing', 'cancelled'].includes(s)) return 'bad';
    if (['deploying', 'queued', 'starting'].includes(s)) return 'busy';
    return 'idle';
  });
}
