import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';

export type StatusTone = 'ok' | 'bad' | 'busy' | 'idle';

/**
 * The tone of a state: green for what went well (a succeeded deployment, a running service), red for what failed,
 * neutral for what is under way (queued, a running deployment, deploying) or at rest (stopped, not deployed).
 * A deployment's `running` means "in progress", a service's `running` means "up": `kind` tells them apart.
 */
export function statusTone(state: string, kind: 'service' | 'deployment' = 'service'): StatusTone {
  if (state === 'succeeded' || (state === 'running' && kind === 'service')) return 'ok';
  if (['failed', 'degraded', 'missing', 'cancelled', 'rejected'].includes(state)) return 'bad';
  if (['deploying', 'queued', 'running', 'starting', 'preparing', 'pending', 'assigned', 'accepted'].includes(state)) return 'busy';
  return 'idle';
}

/** A service or deployment state as a small labelled chip (text, not colour alone, carries the meaning). */
@Component({
  selector: 'w-status',
  template: `<span [class]="'chip ' + tone()" [attr.data-tone]="tone()" data-testid="status">{{ state() }}</span>`,
  styles: `
    .chip { display: inline-block; padding: 1px 8px; border-radius: 10px; font: var(--mat-sys-label-medium); border: 1px solid currentColor; }
    .ok { color: light-dark(#146c2e, #6dd58c); } .bad { color: var(--mat-sys-error); }
    .busy, .idle { color: var(--mat-sys-on-surface-variant); } .busy { border-style: dashed; }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class StatusChipComponent {
  readonly state = input.required<string>();
  /** Whose state: a service's (running = up) or a deployment's (running = in progress). */
  readonly kind = input<'service' | 'deployment'>('service');
  readonly tone = computed(() => statusTone(this.state(), this.kind()));
}
