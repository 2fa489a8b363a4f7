import { ChangeDetectionStrategy, Component, effect, input, signal, untracked, viewChild } from '@angular/core';
import { FormControl, FormGroupDirective, NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatCheckboxModule } from '@angular/material/checkbox';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { inject } from '@angular/core';
import { firstValueFrom } from 'rxjs';
import { applyProblem, fieldError, Problem, toProblem } from '../../core/api/problem';
import type { VariableBackend } from '../../core/api/resources-api.service';
import { ProblemAlertComponent } from './problem-alert.component';
import { EnvEditorComponent } from './env-editor.component';

interface Row { key: string; value: string | null; secret: boolean }

/**
 * Variables of a project, environment or application. Secret values are masked (the API never lists them); "Reveal"
 * asks the audited reveal endpoint and only shows when the user has variable:reveal.
 */
@Component({
  selector: 'w-variables-editor',
  imports: [ReactiveFormsModule, MatButtonModule, MatCheckboxModule, MatFormFieldModule, MatInputModule, ProblemAlertComponent, EnvEditorComponent],
  template: `
    <w-problem [problem]="problem()" />
    @if (rows() !== null) {
      @if (envOpen()) {
        <w-env-editor [backend]="backend()" [rows]="rows()!" [label]="label()" [canEdit]="canEdit()" [canReveal]="canReveal()" (saved)="load()" (closed)="envOpen.set(false)" />
      } @else {
        <button mat-stroked-button type="button" class="env-toggle" (click)="envOpen.set(true)">Edit as .env</button>
      }
    }
    @if (rows() === null) {
      <p class="w-muted">Loading variables…</p>
    } @else if (rows()!.length === 0) {
      <p class="w-muted">No variables yet.</p>
    } @else {
      <table class="w-table" [attr.aria-label]="label()">
        <thead><tr><th scope="col">Key</th><th scope="col">Value</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>
          @for (v of rows(); track v.key) {
            <tr>
              <td><code>{{ v.key }}</code></td>
              <td>
                @if (editing() === v.key) {
                  <input class="inline" [formControl]="inline" [attr.aria-label]="'Value of ' + v.key" [placeholder]="v.secret ? 'New secret value' : ''" autocomplete="off" (keydown.escape)="cancelEdit()" (keydown.enter)="saveInline(v)" />
                } @else if (v.secret && revealed()[v.key] === undefined) {
                  <span aria-label="secret value, hidden">••••••••</span>
                } @else {
                  <code>{{ v.secret ? revealed()[v.key] : v.value }}</code>
                }
              </td>
              <td class="actions">
                @if (v.secret && canReveal() && revealed()[v.key] === undefined) {
                  <button mat-button type="button" (click)="reveal(v.key)" [attr.aria-label]="'Reveal ' + v.key">Reveal</button>
                }
                @if (editing() === v.key) {
                  <button mat-button type="button" (click)="saveInline(v)" [disabled]="busy()" [attr.aria-label]="'Save ' + v.key">Save</button>
                  <button mat-button type="button" (click)="cancelEdit()" [attr.aria-label]="'Cancel editing ' + v.key">Cancel</button>
                } @else if (canEdit()) {
                  <button mat-button type="button" (click)="edit(v)" [attr.aria-label]="'Edit ' + v.key">Edit</button>
                  <button mat-button type="button" (click)="remove(v.key)" [attr.aria-label]="'Delete ' + v.key">Delete</button>
                }
              </td>
            </tr>
          }
        </tbody>
      </table>
    }
    @if (canEdit()) {
      <form class="w-row var-form" [formGroup]="form" (ngSubmit)="save()" novalidate [attr.aria-label]="'Set a variable (' + label() + ')'">
        <mat-form-field><mat-label>Key</mat-label><input matInput formControlName="key" autocomplete="off" /><mat-error>{{ fieldError(form.controls.key, 'Key') }}</mat-error></mat-form-field>
        <mat-form-field class="value"><mat-label>Value</mat-label><input matInput formControlName="value" autocomplete="off" /><mat-error>{{ fieldError(form.controls.value, 'Value') }}</mat-error></mat-form-field>
        <mat-checkbox formControlName="secret">Secret</mat-checkbox>
        <button mat-flat-button type="submit" [disabled]="busy()">Save variable</button>
      </form>
    }
  `,
  styles: `.env-toggle { margin-bottom: 12px; } .inline { width: 100%; font: inherit; font-family: monospace; padding: 4px; } .var-form { align-items: flex-start; margin-top: 12px; } .var-form .value { flex: 1 1 260px; } .actions { white-space: nowrap; text-align: right; }`,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class VariablesEditorComponent {
  readonly backend = input.required<VariableBackend>();
  readonly canEdit = input(false);
  readonly canReveal = input(false);
  readonly label = input('Variables');
  readonly rows = signal<Row[] | null>(null);
  readonly revealed = signal<Record<string, string>>({});
  readonly problem = signal<Problem | null>(null);
  readonly busy = signal(false);
  readonly envOpen = signal(false);
  /** The key whose value is being edited in its row; the inline control holds the draft until Save or Cancel. */
  readonly editing = signal<string | null>(null);
  readonly inline = new FormControl('', { nonNullable: true });
  readonly fieldError = fieldError;
  /** resetForm() also clears the submitted state: after a save the empty form shows no "Key is required". */
  private readonly formDirective = viewChild(FormGroupDirective);
  readonly form = inject(NonNullableFormBuilder).group({
    key: ['', [Validators.required, Validators.pattern(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/)]],
    value: [''],
    secret: [false],
  });

  constructor() {
    effect(() => {
      this.backend();
      untracked(() => void this.load());
    });
  }

  async load(): Promise<void> {
    try {
      this.rows.set((await firstValueFrom(this.backend().list())).map((v) => ({ key: v.key, value: v.value, secret: v.secret })));
    } catch (e) {
      this.problem.set(toProblem(e));
      this.rows.set([]);
    }
  }

  edit(v: Row): void {
    this.problem.set(null);
    this.inline.setValue(v.secret ? '' : (v.value ?? ''));
    this.editing.set(v.key);
  }

  cancelEdit(): void {
    this.editing.set(null);
    this.inline.setValue('');
  }

  async saveInline(v: Row): Promise<void> {
    this.busy.set(true);
    this.problem.set(null);
    try {
      await firstValueFrom(this.backend().put([{ key: v.key, value: this.inline.value, secret: v.secret }]));
      this.revealed.update(({ [v.key]: _, ...rest }) => rest);
      this.cancelEdit();
      await this.load();
    } catch (e) {
      this.problem.set(toProblem(e));
    } finally {
      this.busy.set(false);
    }
  }

  async save(): Promise<void> {
    if (this.form.invalid) {
      this.form.markAllAsTouched();
      return;
    }
    this.busy.set(true);
    this.problem.set(null);
    const v = this.form.getRawValue();
    try {
      await firstValueFrom(this.backend().put([v]));
      this.revealed.update(({ [v.key]: _, ...rest }) => rest);
      this.resetForm();
      await this.load();
    } catch (e) {
      const p = toProblem(e);
      for (const err of p.errors ?? []) err.pointer = err.pointer.replace(/^\/variables\/\d+/, '');
      this.problem.set(applyProblem(this.form, p));
    } finally {
      this.busy.set(false);
    }
  }

  private resetForm(): void {
    const value = { key: '', value: '', secret: false };
    const dir = this.formDirective();
    if (dir) dir.resetForm(value);
    else this.form.reset(value);
  }

  async remove(key: string): Promise<void> {
    if (!confirm(`Delete the variable ${key}?`)) return;
    try {
      await firstValueFrom(this.backend().remove(key));
      await this.load();
    } catch (e) {
      this.problem.set(toProblem(e));
    }
  }

  async reveal(key: string): Promise<void> {
    try {
      const r = await firstValueFrom(this.backend().reveal(key));
      this.revealed.update((all) => ({ ...all, [key]: r.value }));
    } catch (e) {
      this.problem.set(toProblem(e));
    }
  }
}
