import { ChangeDetectionStrategy, Component, computed, inject, signal } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { firstValueFrom } from 'rxjs';
import { Problem, toProblem } from '../../core/api/problem';
import { ResourcesApi } from '../../core/api/resources-api.service';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';
import { ApplicationStore } from '../applications/application.store';

/**
 * Says when the running deployment (the last succeeded one, e.g. after a rollback) differs from the saved spec and
 * variables, naming what differs (never values), with a button that deploys the saved configuration.
 */
@Component({
  selector: 'w-config-drift-banner',
  imports: [MatButtonModule, ProblemAlertComponent],
  template: `
    @if (drift(); as d) {
      <div class="w-card drift" role="status" aria-label="Configuration not applied">
        <p>
          The running deployment{{ d.deploymentKind === 'rollback' ? ' (a rollback)' : '' }} differs from the saved configuration:
          @for (c of d.changed; track c; let last = $last) { <code>{{ c }}</code>{{ last ? '' : ', ' }} }
          — redeploy to apply.
        </p>
        @if (store.canDeploy()) {
          <button mat-flat-button type="button" (click)="redeploy()" [disabled]="busy()">Redeploy to apply</button>
        }
        <w-problem [problem]="problem()" />
      </div>
    }
  `,
  styles: `.drift { border-left: 4px solid var(--mat-sys-tertiary, #7d5260); margin: 8px 0; } .drift p { margin: 0 0 8px; }`,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ConfigDriftBannerComponent {
  readonly store = inject(ApplicationStore);
  private readonly api = inject(ResourcesApi);
  readonly busy = signal(false);
  readonly problem = signal<Problem | null>(null);
  readonly drift = computed(() => {
    const c = this.store.status()?.configuration;
    return c?.differs ? c : null;
  });

  async redeploy(): Promise<void> {
    const a = this.store.app();
    if (!a) return;
    this.busy.set(true);
    this.problem.set(null);
    try {
      await firstValueFrom(this.api.deploy(a.id, 'deploy'));
      await this.store.refreshStatus();
    } catch (e) {
      this.problem.set(toProblem(e));
    } finally {
      this.busy.set(false);
    }
  }
}
