import { ChangeDetectionStrategy, Component, computed, inject, signal } from '@angular/core';
import { MatSlideToggleModule } from '@angular/material/slide-toggle';
import { firstValueFrom } from 'rxjs';
import { Problem, toProblem } from '../../core/api/problem';
import { ResourcesApi } from '../../core/api/resources-api.service';
import { AbilitiesService } from '../../core/auth/abilities.service';
import { OrgContext } from '../../core/org/org-context.service';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';

@Component({
  selector: 'w-security-page',
  imports: [MatSlideToggleModule, ProblemAlertComponent],
  template: `
    <h2>Security</h2>
    <w-problem [problem]="problem()" />
    @if (org(); as o) {
      <mat-slide-toggle [checked]="o.requireTwoFactor" [disabled]="!canUpdate() || busy()" (change)="toggle($event.checked)">Require two-factor authentication</mat-slide-toggle>
      <p class="w-muted">Members without two-factor authentication must set it up before they can act in this organization.</p>
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class SecurityPage {
  private readonly api = inject(ResourcesApi);
  private readonly orgs = inject(OrgContext);
  private readonly abilities = inject(AbilitiesService);
  readonly org = this.orgs.current;
  readonly canUpdate = computed(() => this.abilities.can('update', 'organization', this.orgs.currentId()));
  readonly problem = signal<Problem | null>(null);
  readonly busy = signal(false);

  async toggle(on: boolean): Promise<void> {
    this.busy.set(true);
    this.problem.set(null);
    try {
      await firstValueFrom(this.api.updateOrganization(this.org()!, { requireTwoFactor: on }));
    } catch (e) {
      this.problem.set(toProblem(e));
    } finally {
      await this.orgs.load();
      this.busy.set(false);
    }
  }
}
