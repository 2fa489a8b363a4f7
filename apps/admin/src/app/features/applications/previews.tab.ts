import { DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, computed, effect, inject, signal, untracked, viewChild } from '@angular/core';
import { FormControl, FormGroup, FormGroupDirective, NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatCheckboxModule } from '@angular/material/checkbox';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatSnackBar } from '@angular/material/snack-bar';
import { RouterLink } from '@angular/router';
import { firstValueFrom } from 'rxjs';
import { applyProblem, fieldError, Problem, toProblem } from '../../core/api/problem';
import { Preview, PreviewsApi, PreviewSettings, SetPreviewSettingsBody } from '../../core/api/previews-api.service';
import { OrgContext } from '../../core/org/org-context.service';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';
import { ApplicationStore } from './application.store';
import { shortSha } from './source-form';

type EnvGroup = FormGroup<{ key: FormControl<string>; value: FormControl<string>; secret: FormControl<boolean>; stored: FormControl<boolean> }>;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const STATE_LABELS: Record<string, string> = { 'awaiting-approval': 'awaiting approval', active: 'active' };

/**
 * Pull request previews of the application: the list (state, head commit, URL, the preview application and its last
 * deployment; Approve for a waiting one, with `application:deploy`) and the preview settings (enabled, wildcard domain,
 * port, HTTPS, limit, variable overrides — a stored secret is never shown and kept when left empty), saved with
 * If-Match. A preview application itself shows where its settings live instead.
 */
@Component({
  selector: 'w-app-previews',
  imports: [DatePipe, RouterLink, ReactiveFormsModule, MatButtonModule, MatCheckboxModule, MatFormFieldModule, MatInputModule, ProblemAlertComponent],
  template: `
    <w-problem [problem]="problem()" />
    @if (isPreview()) {
      <section class="w-card" aria-label="A preview application">
        <p>This application is the preview of a pull request: it is rebuilt from the pull request, and removed when the pull request closes.</p>
        @if (store.app()?.previewOf; as parent) {
          <a [routerLink]="['/orgs', orgId(), 'applications', parent, 'previews']">Previews and their settings are on the application it previews</a>
        }
      </section>
    } @else {
      <section class="w-card" aria-labelledby="previews-title">
        <div class="w-row">
          <h2 id="previews-title">Previews</h2>
          <span class="w-spacer"></span>
          <button mat-stroked-button type="button" (click)="loadList()" [disabled]="loading()">Refresh</button>
        </div>
        <p class="w-muted">Each open pull request gets its own application built from its head commit. Pull requests from forks, and on GitHub from authors without write access, wait for an approval; a new push to them needs a new approval.</p>
        @if (previews(); as list) {
          @if (list.length === 0) {
            <p class="w-muted" data-testid="no-previews">No previews yet.</p>
          } @else {
            <table class="w-table" aria-label="Previews">
              <thead><tr><th scope="col">Pull request</th><th scope="col">State</th><th scope="col">Commit</th><th scope="col">URL</th><th scope="col">Deployment</th><th scope="col">Updated</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
              <tbody>
                @for (p of list; track p.id) {
                  <tr [attr.data-preview]="p.number">
                    <td>
                      <strong>#{{ p.number }}</strong> {{ p.title ?? '' }}
                      <div class="w-muted small">{{ p.headRef }}@if (p.author) { · {{ p.author }} }@if (p.fromFork) { · fork }</div>
                    </td>
                    <td>
                      <span [class]="'chip ' + p.state" data-testid="preview-state">{{ stateLabel(p.state) }}</span>
                      @if (p.approvalReason) { <div class="w-muted small reason">{{ p.approvalReason }}</div> }
                    </td>
                    <td>
                      <code [attr.title]="p.headSha" data-testid="preview-commit">{{ short(p.headSha) }}</code>
                      @if (p.deployedSha && p.deployedSha !== p.headSha) { <div class="w-muted small">running <code [attr.title]="p.deployedSha">{{ short(p.deployedSha) }}</code></div> }
                    </td>
                    <td>@if (p.url; as url) { <a [href]="url" target="_blank" rel="noopener noreferrer" data-testid="preview-url">{{ url }}</a> } @else { — }</td>
                    <td>
                      @if (p.applicationId; as appId) {
                        <a [routerLink]="['/orgs', orgId(), 'applications', appId, 'deployments']" [queryParams]="p.deployment ? { deployment: p.deployment.id } : {}" data-testid="preview-app">
                          {{ p.deployment?.status ?? 'open' }}
                        </a>
                      } @else { — }
                    </td>
                    <td>{{ p.updatedAt | date: 'short' }}</td>
                    <td class="actions">
                      @if (p.state === 'awaiting-approval' && store.canDeploy()) {
                        <button mat-flat-button type="button" (click)="approve(p)" [disabled]="busy()" [attr.aria-label]="'Approve pull request #' + p.number + ' at ' + short(p.headSha)">Approve</button>
                      }
                    </td>
                  </tr>
                }
              </tbody>
            </table>
          }
        } @else {
          <p class="w-muted">Loading previews…</p>
        }
      </section>

      <form class="w-card w-form" [formGroup]="form" (ngSubmit)="save()" novalidate aria-label="Preview settings">
        <h2>Preview settings</h2>
        <mat-checkbox formControlName="enabled">Build a preview for each pull request</mat-checkbox>
        <div class="w-row">
          <mat-form-field class="grow">
            <mat-label>Preview domain</mat-label>
            <input matInput formControlName="domain" autocomplete="off" spellcheck="false" placeholder="*.preview.example.com" />
            <mat-hint>A wildcard whose DNS points at Wharf: pull request 12 answers on pr-12-{{ store.app()?.slug ?? 'app' }}.…</mat-hint>
            <mat-error>{{ fieldError(form.controls.domain, 'Preview domain') }}</mat-error>
          </mat-form-field>
          <mat-form-field>
            <mat-label>Container port</mat-label>
            <input matInput type="number" formControlName="port" min="1" max="65535" />
            <mat-hint>Empty: the application's first port, else 80</mat-hint>
            <mat-error>{{ fieldError(form.controls.port, 'Container port') }}</mat-error>
          </mat-form-field>
          <mat-form-field>
            <mat-label>Previews at once</mat-label>
            <input matInput type="number" formControlName="maxPreviews" min="1" max="50" />
            <mat-error>{{ fieldError(form.controls.maxPreviews, 'Previews at once') }}</mat-error>
          </mat-form-field>
        </div>
        <mat-checkbox formControlName="https">Serve previews over HTTPS</mat-checkbox>

        <fieldset>
          <legend>Variable overrides</legend>
          <p class="w-muted">Previews get the application's variables with these replaced or added.</p>
          @for (row of env.controls; track row; let i = $index) {
            <div class="w-row" [formGroup]="row">
              <mat-form-field><mat-label>Name</mat-label><input matInput formControlName="key" autocomplete="off" spellcheck="false" /><mat-error>{{ fieldError(row.controls.key, 'Name') }}</mat-error></mat-form-field>
              <mat-form-field class="grow">
                <mat-label>Value</mat-label>
                <input matInput [type]="row.controls.secret.value ? 'password' : 'text'" formControlName="value" autocomplete="off" spellcheck="false" />
                @if (row.controls.stored.value) { <mat-hint>A secret value is stored; leave empty to keep it</mat-hint> }
                <mat-error>{{ fieldError(row.controls.value, 'Value') }}</mat-error>
              </mat-form-field>
              <mat-checkbox formControlName="secret">Secret</mat-checkbox>
              @if (store.canUpdate()) { <button mat-button type="button" (click)="env.removeAt(i)" [attr.aria-label]="'Remove override ' + (row.controls.key.value || (i + 1))">Remove</button> }
            </div>
          }
          @if (store.canUpdate()) { <button mat-button type="button" (click)="addEnv()">Add override</button> }
        </fieldset>

        @if (store.canUpdate()) {
          <div class="w-row">
            <button mat-flat-button type="submit" [disabled]="busy()">Save preview settings</button>
            <button mat-button type="button" (click)="reset()" [disabled]="busy()">Reset</button>
          </div>
        }
      </form>
    }
  `,
  styles: `
    h2 { margin: 0 0 8px; }
    .grow { flex: 1 1 320px; }
    .small { font: var(--mat-sys-body-small); }
    .reason { max-width: 22em; }
    .actions { white-space: nowrap; text-align: right; }
    fieldset { border: 1px solid var(--mat-sys-outline-variant); border-radius: 8px; margin: 12px 0; padding: 8px 12px; }
    .chip { display: inline-block; padding: 1px 8px; border-radius: 10px; font: var(--mat-sys-label-medium); border: 1px solid currentColor; }
    .active { color: light-dark(#146c2e, #6dd58c); } .awaiting-approval { color: light-dark(#8a5300, #ffb95c); }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class PreviewsTab {
  readonly store = inject(ApplicationStore);
  private readonly api = inject(PreviewsApi);
  private readonly snack = inject(MatSnackBar);
  private readonly fb = inject(NonNullableFormBuilder);
  readonly orgId = inject(OrgContext).currentId;
  readonly previews = signal<Preview[] | null>(null);
  readonly settings = signal<PreviewSettings | null>(null);
  /** The application is itself a preview (its settings live on the application it previews). */
  readonly isPreview = computed(() => !!this.store.app()?.previewOf || this.settingsMissing());
  private readonly settingsMissing = signal(false);
  readonly problem = signal<Problem | null>(null);
  readonly busy = signal(false);
  readonly loading = signal(false);
  readonly fieldError = fieldError;
  readonly short = shortSha;
  readonly stateLabel = (s: string) => STATE_LABELS[s] ?? s;
  private readonly formDirective = viewChild(FormGroupDirective);

  readonly env = this.fb.array<EnvGroup>([]);
  readonly form = this.fb.group({
    enabled: [false],
    domain: [''],
    port: this.fb.control<number | null>(null, [Validators.min(1), Validators.max(65535)]),
    https: [true],
    maxPreviews: [5, [Validators.required, Validators.min(1), Validators.max(50)]],
    env: this.env,
  });

  constructor() {
    effect(() => {
      const id = this.store.app()?.id;
      if (id && !this.store.app()?.previewOf) untracked(() => void this.load(id));
    });
    effect(() => {
      const can = this.store.canUpdate();
      untracked(() => (can ? this.form.enable({ emitEvent: false }) : this.form.disable({ emitEvent: false })));
    });
  }

  private envGroup(e: { key: string; value: string; secret: boolean; stored: boolean } = { key: '', value: '', secret: false, stored: false }): EnvGroup {
    return this.fb.group({ key: [e.key, [Validators.required, Validators.pattern(ENV_KEY)]], value: [e.value], secret: [e.secret], stored: [e.stored] });
  }
  addEnv(): void {
    this.env.push(this.envGroup());
  }

  private fill(s: PreviewSettings): void {
    this.env.clear({ emitEvent: false });
    for (const e of s.env) this.env.push(this.envGroup({ key: e.key, value: e.value ?? '', secret: e.secret, stored: e.secret }), { emitEvent: false });
    const v = { enabled: s.enabled, domain: s.domain ?? '', port: s.port, https: s.https, maxPreviews: s.maxPreviews, env: this.env.getRawValue() };
    const dir = this.formDirective();
    if (dir) dir.resetForm(v);
    else this.form.reset(v);
    if (!this.store.canUpdate()) this.form.disable({ emitEvent: false });
  }

  async load(applicationId: string): Promise<void> {
    try {
      const s = await firstValueFrom(this.api.settings(applicationId));
      this.settings.set(s);
      this.fill(s);
    } catch (e) {
      const p = toProblem(e);
      if (p.status === 404) return this.settingsMissing.set(true);
      this.problem.set(p);
    }
    await this.loadList();
  }

  async loadList(): Promise<void> {
    const id = this.store.app()?.id;
    if (!id) return;
    this.loading.set(true);
    try {
      this.previews.set(await firstValueFrom(this.api.list(id)));
    } catch (e) {
      this.problem.set(toProblem(e));
    } finally {
      this.loading.set(false);
    }
  }

  reset(): void {
    this.problem.set(null);
    const s = this.settings();
    if (s) this.fill(s);
  }

  async save(): Promise<void> {
    const a = this.store.app();
    if (!a || !this.store.canUpdate()) return;
    if (this.form.invalid) {
      this.form.markAllAsTouched();
      return;
    }
    const v = this.form.getRawValue();
    const body: SetPreviewSettingsBody = {
      enabled: v.enabled, domain: v.domain.trim() || null, port: v.port ?? null, https: v.https, maxPreviews: v.maxPreviews,
      env: v.env.map((e) => (e.secret && e.stored && e.value === '' ? { key: e.key.trim(), secret: true } : { key: e.key.trim(), value: e.value, secret: e.secret })) as SetPreviewSettingsBody['env'],
    };
    this.busy.set(true);
    this.problem.set(null);
    try {
      const saved = await firstValueFrom(this.api.setSettings(a.id, body, this.settings()?.version ?? 0));
      this.settings.set(saved);
      this.fill(saved);
      this.snack.open('Preview settings saved', 'Dismiss', { duration: 4000 });
    } catch (e) {
      this.problem.set(applyProblem(this.form, toProblem(e)));
    } finally {
      this.busy.set(false);
    }
  }

  async approve(p: Preview): Promise<void> {
    const a = this.store.app();
    if (!a || !confirm(`Approve pull request #${p.number} at commit ${shortSha(p.headSha)}? Its code is built and runs with the preview's variables.`)) return;
    this.busy.set(true);
    this.problem.set(null);
    try {
      const updated = await firstValueFrom(this.api.approve(a.id, p.number, p.headSha));
      this.previews.update((list) => (list ?? []).map((x) => (x.id === updated.id ? updated : x)));
      this.snack.open(`Pull request #${p.number} approved; its preview is deploying`, 'Dismiss', { duration: 4000 });
    } catch (e) {
      this.problem.set(toProblem(e));
      await this.loadList();
    } finally {
      this.busy.set(false);
    }
  }
}
