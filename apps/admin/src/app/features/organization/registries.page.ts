import { ChangeDetectionStrategy, Component, computed, effect, inject, signal, untracked, viewChild } from '@angular/core';
import { FormGroupDirective, NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { firstValueFrom } from 'rxjs';
import { Registry } from '../../core/api/api-types';
import { Loadable } from '../../core/api/list-state';
import { applyProblem, fieldError, Problem, toProblem } from '../../core/api/problem';
import { ResourcesApi } from '../../core/api/resources-api.service';
import { AbilitiesService } from '../../core/auth/abilities.service';
import { OrgContext } from '../../core/org/org-context.service';
import { ListStateComponent } from '../../shared/ui/list-state.component';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';

/** Container registries (passwords are write-only) with a "test connection" per registry. */
@Component({
  selector: 'w-registries-page',
  imports: [ReactiveFormsModule, MatButtonModule, MatFormFieldModule, MatInputModule, ListStateComponent, ProblemAlertComponent],
  template: `
    <h2>Registries</h2>
    @if (canCreate()) {
      <section class="w-card" aria-labelledby="reg-title">
        <h3 id="reg-title">New registry</h3>
        <w-problem [problem]="problem()" />
        <form class="w-row" [formGroup]="form" (ngSubmit)="create()" novalidate>
          <mat-form-field><mat-label>Name</mat-label><input matInput formControlName="name" autocomplete="off" /><mat-error>{{ fieldError(form.controls.name, 'Name') }}</mat-error></mat-form-field>
          <mat-form-field><mat-label>Host</mat-label><input matInput formControlName="host" autocomplete="off" placeholder="registry.example.com" /><mat-error>{{ fieldError(form.controls.host, 'Host') }}</mat-error></mat-form-field>
          <mat-form-field><mat-label>Username</mat-label><input matInput formControlName="username" autocomplete="off" /><mat-error>{{ fieldError(form.controls.username, 'Username') }}</mat-error></mat-form-field>
          <mat-form-field><mat-label>Password</mat-label><input matInput type="password" formControlName="password" autocomplete="new-password" /><mat-error>{{ fieldError(form.controls.password, 'Password') }}</mat-error></mat-form-field>
          <button mat-flat-button type="submit" [disabled]="busy()">Add registry</button>
        </form>
      </section>
    }
    <w-problem [problem]="listProblem()" />
    <w-list-state [loading]="list.loading()" [error]="list.error()" [count]="list.value()?.length" emptyText="No registries." (retry)="list.load()">
      <table class="w-table" aria-label="Registries">
        <thead><tr><th scope="col">Name</th><th scope="col">Host</th><th scope="col">Username</th><th scope="col">Connection</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>
          @for (r of list.value(); track r.id) {
            <tr>
              <td>{{ r.name }}</td><td><code>{{ r.host }}</code></td><td>{{ r.username }}</td>
              <td role="status">{{ results()[r.id] }}</td>
              <td>
                @if (canUpdate()) {
                  <button mat-button type="button" (click)="test(r)" [attr.aria-label]="'Test connection to ' + r.name">Test connection</button>
                }
                @if (canDelete()) {
                  <button mat-button type="button" (click)="remove(r)" [attr.aria-label]="'Delete ' + r.name">Delete</button>
                }
              </td>
            </tr>
          }
        </tbody>
      </table>
    </w-list-state>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class RegistriesPage {
  private readonly api = inject(ResourcesApi);
  private readonly abilities = inject(AbilitiesService);
  readonly orgId = inject(OrgContext).currentId;
  readonly list = new Loadable(() => this.api.registries(this.orgId()!));
  readonly problem = signal<Problem | null>(null);
  readonly listProblem = signal<Problem | null>(null);
  readonly results = signal<Record<string, string>>({});
  readonly busy = signal(false);
  readonly fieldError = fieldError;
  readonly canCreate = computed(() => this.abilities.can('create', 'registry', this.orgId()));
  readonly canUpdate = computed(() => this.abilities.can('update', 'registry', this.orgId()));
  readonly canDelete = computed(() => this.abilities.can('delete', 'registry', this.orgId()));
  /** resetForm() also clears the submitted state: after a save the empty form shows no "Name is required". */
  private readonly formDirective = viewChild(FormGroupDirective);
  readonly form = inject(NonNullableFormBuilder).group({ name: ['', Validators.required], host: ['', Validators.required], username: ['', Validators.required], password: ['', Validators.required] });

  constructor() {
    effect(() => {
      if (this.orgId()) untracked(() => void this.list.load());
    });
  }

  async create(): Promise<void> {
    if (this.form.invalid) return this.form.markAllAsTouched();
    this.busy.set(true);
    this.problem.set(null);
    try {
      await firstValueFrom(this.api.createRegistry(this.orgId()!, this.form.getRawValue()));
      // Back to the initial values, untouched and not submitted (a bare form.reset() leaves the form submitted).
      const dir = this.formDirective();
      if (dir) dir.resetForm();
      else this.form.reset();
      await this.list.load();
    } catch (e) {
      this.problem.set(applyProblem(this.form, toProblem(e)));
    } finally {
      this.busy.set(false);
    }
  }

  async test(r: Registry): Promise<void> {
    this.results.update((x) => ({ ...x, [r.id]: 'Testing…' }));
    try {
      const res = await firstValueFrom(this.api.testRegistry(r.id));
      this.results.update((x) => ({ ...x, [r.id]: res.ok ? 'Connected' : `Failed: ${res.message ?? 'login refused'}` }));
    } catch (e) {
      this.results.update((x) => ({ ...x, [r.id]: `Failed: ${toProblem(e).detail}` }));
    }
  }

  async remove(r: Registry): Promise<void> {
    if (!confirm(`Delete the registry ${r.name}?`)) return;
    try {
      await firstValueFrom(this.api.deleteRegistry(r.id));
      await this.list.load();
    } catch (e) {
      this.listProblem.set(toProblem(e));
    }
  }
}
