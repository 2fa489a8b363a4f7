import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatSnackBar } from '@angular/material/snack-bar';
import { Router } from '@angular/router';
import { firstValueFrom, Observable } from 'rxjs';
import { Problem, toProblem } from '../../core/api/problem';
import { ResourcesApi } from '../../core/api/resources-api.service';
import { OrgContext } from '../../core/org/org-context.service';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';
import { TypedConfirmComponent } from '../../shared/ui/typed-confirm.component';
import { ApplicationStore } from './application.store';

/** Scale, and delete (typed confirmation with the application's slug); the lifecycle actions are in the header. */
@Component({
  selector: 'w-app-danger',
  imports: [FormsModule, MatButtonModule, MatFormFieldModule, MatInputModule, ProblemAlertComponent, TypedConfirmComponent],
  template: `
    <w-problem [problem]="problem()" />
    @if (store.app(); as a) {
      @if (store.canDeploy()) {
        <section class="w-card" aria-label="Scale">
          <h2>Scale</h2>
          <p class="w-muted">Deploy, Redeploy, Restart, Stop and Start are at the top of the application.</p>
          <div class="w-row">
            <mat-form-field subscriptSizing="dynamic"><mat-label>Replicas</mat-label><input matInput type="number" min="0" max="100" [(ngModel)]="replicas" name="replicas" /></mat-form-field>
            <button mat-stroked-button type="button" (click)="scale()">Scale</button>
          </div>
        </section>
      }
      @if (store.canDelete()) {
        <section class="w-card" aria-label="Delete application">
          <h2>Delete application</h2>
          <p>Removes the Swarm service. Named volumes are kept.</p>
          <w-typed-confirm [expected]="a.slug" action="Delete application" (confirmed)="remove()" />
        </section>
      }
      @if (!store.canDeploy() && !store.canDelete()) {
        <p class="w-muted">You cannot change this application.</p>
      }
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class DangerTab {
  readonly store = inject(ApplicationStore);
  private readonly api = inject(ResourcesApi);
  private readonly snack = inject(MatSnackBar);
  private readonly router = inject(Router);
  private readonly orgId = inject(OrgContext).currentId;
  readonly problem = signal<Problem | null>(null);
  replicas = 1;

  scale(): Promise<void> {
    return this.call(this.api.scale(this.store.app()!.id, Number(this.replicas)), `Scaling to ${this.replicas}`);
  }
  private async call(o: Observable<unknown>, msg: string): Promise<void> {
    this.problem.set(null);
    try {
      await firstValueFrom(o);
      this.snack.open(msg, 'Dismiss', { duration: 4000 });
      await this.store.reload();
    } catch (e) {
      this.problem.set(toProblem(e));
    }
  }
  async remove(): Promise<void> {
    const a = this.store.app()!;
    try {
      await firstValueFrom(this.api.deleteApplication(a.id));
      await this.router.navigate(['/orgs', this.orgId(), 'projects', a.projectId, 'environments', a.environmentId]);
    } catch (e) {
      this.problem.set(toProblem(e));
    }
  }
}
