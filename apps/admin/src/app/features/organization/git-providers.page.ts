import { Clipboard } from '@angular/cdk/clipboard';
import { ChangeDetectionStrategy, Component, computed, effect, inject, signal, untracked, viewChild } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { FormGroupDirective, NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatSelectModule } from '@angular/material/select';
import { firstValueFrom } from 'rxjs';
import { createFields, GitProvider, GitProvidersApi, PROVIDER_FIELDS, providerBody, providerPatch, providerWebhookUrl, SECRET_FIELDS } from '../../core/api/git-providers-api.service';
import { OAUTH_FIELDS } from '../../core/api/git-providers-api.service';
import { Loadable } from '../../core/api/list-state';
import { applyProblem, fieldError, Problem, toProblem } from '../../core/api/problem';
import { AbilitiesService } from '../../core/auth/abilities.service';
import { OrgContext } from '../../core/org/org-context.service';
import { ListStateComponent } from '../../shared/ui/list-state.component';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';
import { GitProviderOAuthComponent } from './git-provider-oauth.component';
import { GitProviderDeliveriesComponent } from './git-provider-deliveries.component';

const KIND_LABELS: Record<string, string> = { github: 'GitHub (App)', gitlab: 'GitLab', gitea: 'Gitea / Forgejo', bitbucket: 'Bitbucket' };
const BASE_URL_HINT: Record<string, string> = {
  github: 'Default https://api.github.com; GitHub Enterprise: https://host/api/v3',
  gitlab: 'Default https://gitlab.com',
  gitea: 'The server address, https://…',
  bitbucket: 'Default https://api.bitbucket.org/2.0',
};

/**
 * Git provider connections of the organization: connect and edit (secrets write-only: an empty field keeps the stored
 * value), test connection, delete; a GitHub App connection shows its webhook URL (with Copy) to paste into the App,
 * and its webhook's deliveries.
 */
@Component({
  selector: 'w-git-providers-page',
  imports: [ReactiveFormsModule, MatButtonModule, MatFormFieldModule, MatInputModule, MatSelectModule, ListStateComponent, ProblemAlertComponent, GitProviderOAuthComponent, GitProviderDeliveriesComponent],
  template: `
    <h2>Git providers</h2>
    @if (canCreate()) {
      <section class="w-card" aria-labelledby="gp-title">
        <h3 id="gp-title">Connect a Git provider</h3>
        <w-problem [problem]="problem()" />
        <form [formGroup]="form" (ngSubmit)="create()" novalidate>
          <div class="w-row">
            <mat-form-field><mat-label>Name</mat-label><input matInput formControlName="name" autocomplete="off" /><mat-error>{{ fieldError(form.controls.name, 'Name') }}</mat-error></mat-form-field>
            <mat-form-field>
              <mat-label>Provider</mat-label>
              <mat-select formControlName="kind">
                @for (k of kinds; track k) {
                  <mat-option [value]="k">{{ kindLabel(k) }}</mat-option>
                }
              </mat-select>
            </mat-form-field>
            @if (kind() === 'gitlab' || kind() === 'bitbucket') {
              <mat-form-field>
                <mat-label>Authentication</mat-label>
                <mat-select formControlName="auth">
                  <mat-option value="token">{{ kind() === 'bitbucket' ? 'App password or access token' : 'Access token' }}</mat-option>
                  <mat-option value="oauth">{{ kind() === 'bitbucket' ? 'OAuth consumer' : 'OAuth application' }}</mat-option>
                </mat-select>
                @if (auth() === 'oauth') { <mat-hint>Authorize with {{ kindLabel(kind()) }} after connecting</mat-hint> }
              </mat-form-field>
            }
          </div>
          <div class="w-row">
            @if (has('baseUrl')) {
              <mat-form-field><mat-label>Base URL</mat-label><input matInput formControlName="baseUrl" autocomplete="off" placeholder="https://" /><mat-hint>{{ baseUrlHint() }}</mat-hint><mat-error>{{ fieldError(form.controls.baseUrl, 'Base URL') }}</mat-error></mat-form-field>
            }
            @if (has('appId')) {
              <mat-form-field><mat-label>App ID</mat-label><input matInput formControlName="appId" autocomplete="off" inputmode="numeric" /><mat-error>{{ fieldError(form.controls.appId, 'App ID') }}</mat-error></mat-form-field>
            }
            @if (has('installationId')) {
              <mat-form-field><mat-label>Installation ID</mat-label><input matInput formControlName="installationId" autocomplete="off" inputmode="numeric" /><mat-error>{{ fieldError(form.controls.installationId, 'Installation ID') }}</mat-error></mat-form-field>
            }
            @if (has('workspace')) {
              <mat-form-field><mat-label>Workspace</mat-label><input matInput formControlName="workspace" autocomplete="off" /><mat-error>{{ fieldError(form.controls.workspace, 'Workspace') }}</mat-error></mat-form-field>
            }
            @if (has('username')) {
              <mat-form-field><mat-label>Username (app password)</mat-label><input matInput formControlName="username" autocomplete="off" /><mat-hint>Leave empty for an access token</mat-hint><mat-error>{{ fieldError(form.controls.username, 'Username') }}</mat-error></mat-form-field>
            }
            @if (has('token')) {
              <mat-form-field><mat-label>{{ form.controls.kind.value === 'bitbucket' ? 'App password or access token' : 'Access token' }}</mat-label><input matInput type="password" formControlName="token" autocomplete="new-password" /><mat-error>{{ fieldError(form.controls.token, 'Token') }}</mat-error></mat-form-field>
            }
            @if (has('clientId')) {
              <mat-form-field><mat-label>{{ kind() === 'bitbucket' ? 'Key' : 'Application ID' }}</mat-label><input matInput formControlName="clientId" autocomplete="off" /><mat-error>{{ fieldError(form.controls.clientId, kind() === 'bitbucket' ? 'Key' : 'Application ID') }}</mat-error></mat-form-field>
            }
            @if (has('clientSecret')) {
              <mat-form-field><mat-label>{{ kind() === 'bitbucket' ? 'Secret' : 'Application secret' }}</mat-label><input matInput type="password" formControlName="clientSecret" autocomplete="new-password" /><mat-error>{{ fieldError(form.controls.clientSecret, kind() === 'bitbucket' ? 'Secret' : 'Application secret') }}</mat-error></mat-form-field>
            }
            @if (has('webhookSecret')) {
              <mat-form-field><mat-label>Webhook secret (optional)</mat-label><input matInput type="password" formControlName="webhookSecret" autocomplete="new-password" /><mat-error>{{ fieldError(form.controls.webhookSecret, 'Webhook secret') }}</mat-error></mat-form-field>
            }
          </div>
          @if (has('privateKey')) {
            <mat-form-field class="w-wide"><mat-label>Private key (PEM)</mat-label><textarea matInput formControlName="privateKey" rows="4" autocomplete="off" spellcheck="false" placeholder="-----BEGIN RSA PRIVATE KEY-----"></textarea><mat-hint>Stored encrypted; never shown again</mat-hint><mat-error>{{ fieldError(form.controls.privateKey, 'Private key') }}</mat-error></mat-form-field>
          }
          <div><button mat-flat-button type="submit" [disabled]="busy()">Connect</button></div>
        </form>
      </section>
    }
    @if (editing(); as e) {
      <section class="w-card" aria-labelledby="gp-edit-title" data-testid="git-provider-edit">
        <h3 id="gp-edit-title">Edit {{ e.name }} ({{ kindLabel(e.kind) }})</h3>
        <w-problem [problem]="editProblem()" />
        <form [formGroup]="editForm" (ngSubmit)="save(e)" novalidate>
          <div class="w-row">
            <mat-form-field><mat-label>Name</mat-label><input matInput formControlName="name" autocomplete="off" /><mat-error>{{ fieldError(editForm.controls.name, 'Name') }}</mat-error></mat-form-field>
            @for (f of editFields(); track f) {
              @if (f !== 'privateKey') {
                <mat-form-field>
                  <mat-label>{{ fieldLabel(e.kind, f) }}</mat-label>
                  <input matInput [formControl]="editControl(f)" [type]="isSecret(f) ? 'password' : 'text'" [attr.autocomplete]="isSecret(f) ? 'new-password' : 'off'" [attr.data-field]="f" />
                  @if (isSecret(f)) { <mat-hint>{{ e.secretsSet.includes($any(f)) ? 'A value is stored: leave empty to keep it' : 'No value stored' }}</mat-hint> }
                  <mat-error>{{ fieldError(editControl(f), fieldLabel(e.kind, f)) }}</mat-error>
                </mat-form-field>
              }
            }
          </div>
          @if (editFields().includes('privateKey')) {
            <mat-form-field class="w-wide">
              <mat-label>Private key (PEM)</mat-label>
              <textarea matInput [formControl]="editControl('privateKey')" rows="4" autocomplete="off" spellcheck="false" data-field="privateKey"></textarea>
              <mat-hint>{{ e.secretsSet.includes('privateKey') ? 'A value is stored: leave empty to keep it' : 'No value stored' }}</mat-hint>
              <mat-error>{{ fieldError(editControl('privateKey'), 'Private key') }}</mat-error>
            </mat-form-field>
          }
          <div class="w-row">
            <button mat-flat-button type="submit" [disabled]="busy()">Save</button>
            <button mat-button type="button" (click)="editing.set(null)">Cancel</button>
          </div>
        </form>
      </section>
    }
    <w-problem [problem]="listProblem()" />
    <w-list-state [loading]="list.loading()" [error]="list.error()" [count]="list.value()?.length" emptyText="No Git providers connected." (retry)="list.load()">
      <table class="w-table" aria-label="Git providers">
        <thead><tr><th scope="col">Name</th><th scope="col">Provider</th><th scope="col">Base URL</th><th scope="col">Secrets</th><th scope="col">App webhook</th><th scope="col">Connection</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>
          @for (p of list.value(); track p.id) {
            <tr>
              <td>{{ p.name }}</td><td>{{ kindLabel(p.kind) }}</td><td><code>{{ p.baseUrl }}</code></td>
              <td>{{ p.secretsSet.length ? p.secretsSet.join(', ') + ' stored' : 'none' }}@if (p.oauth) {<w-git-provider-oauth [provider]="p" [canAuthorize]="canUpdate()" />}</td>
              <td>
                @if (webhookUrl(p); as url) {
                  <code class="url" data-testid="provider-webhook-url">{{ url }}</code>
                  <button mat-button type="button" (click)="copy(url, p.id)" [attr.aria-label]="(copied() === p.id ? 'Copied' : 'Copy') + ' the webhook URL of ' + p.name">{{ copied() === p.id ? 'Copied' : 'Copy' }}</button>
                  <button mat-button type="button" (click)="showDeliveries.set(p)" [attr.aria-label]="'Deliveries of ' + p.name">Deliveries</button>
                  @if (!p.secretsSet.includes('webhookSecret')) { <div class="w-muted">Set the App's webhook secret here too: without it every delivery is refused.</div> }
                } @else { — }
              </td>
              <td role="status">{{ results()[p.id] }}</td>
              <td>
                @if (canUpdate()) {
                  <button mat-button type="button" (click)="edit(p)" [attr.aria-label]="'Edit ' + p.name">Edit</button>
                  <button mat-button type="button" (click)="test(p)" [attr.aria-label]="'Test connection to ' + p.name">Test connection</button>
                }
                @if (canDelete()) {
                  <button mat-button type="button" (click)="remove(p)" [attr.aria-label]="'Delete ' + p.name">Delete</button>
                }
              </td>
            </tr>
          }
        </tbody>
      </table>
    </w-list-state>
    @if (showDeliveries(); as d) {
      <w-git-provider-deliveries [provider]="d" (closed)="showDeliveries.set(null)" />
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class GitProvidersPage {
  private readonly api = inject(GitProvidersApi);
  private readonly abilities = inject(AbilitiesService);
  readonly orgId = inject(OrgContext).currentId;
  readonly list = new Loadable(() => this.api.list(this.orgId()!));
  readonly problem = signal<Problem | null>(null);
  readonly listProblem = signal<Problem | null>(null);
  readonly results = signal<Record<string, string>>({});
  readonly busy = signal(false);
  readonly fieldError = fieldError;
  readonly kinds = Object.keys(KIND_LABELS);
  readonly canCreate = computed(() => this.abilities.can('create', 'git-provider', this.orgId()));
  readonly canUpdate = computed(() => this.abilities.can('update', 'git-provider', this.orgId()));
  readonly canDelete = computed(() => this.abilities.can('delete', 'git-provider', this.orgId()));
  private readonly formDirective = viewChild(FormGroupDirective);
  readonly form = inject(NonNullableFormBuilder).group({
    name: ['', Validators.required], kind: ['github'], baseUrl: [''], appId: [''], installationId: [''], privateKey: [''], webhookSecret: [''], token: [''], username: [''], workspace: [''],
    auth: ['token'], clientId: [''], clientSecret: [''],
  });
  readonly kind = toSignal(this.form.controls.kind.valueChanges, { initialValue: this.form.controls.kind.value });
  readonly auth = toSignal(this.form.controls.auth.valueChanges, { initialValue: this.form.controls.auth.value });
  readonly baseUrlHint = computed(() => BASE_URL_HINT[this.kind()] ?? '');
  private readonly clipboard = inject(Clipboard);
  readonly copied = signal<string | null>(null);
  readonly editing = signal<GitProvider | null>(null);
  /** The GitHub App connection whose webhook deliveries are shown. */
  readonly showDeliveries = signal<GitProvider | null>(null);
  readonly editProblem = signal<Problem | null>(null);
  readonly editForm = inject(NonNullableFormBuilder).group({
    name: ['', Validators.required], baseUrl: [''], appId: [''], installationId: [''], privateKey: [''], webhookSecret: [''], token: [''], username: [''], workspace: [''], clientId: [''], clientSecret: [''],
  });
  readonly editFields = computed(() => { const e = this.editing(); return e ? createFields(e.kind, e.auth) : []; });

  constructor() {
    effect(() => {
      if (this.orgId()) untracked(() => void this.list.load());
    });
  }

  kindLabel(kind: string): string {
    return KIND_LABELS[kind] ?? kind;
  }
  has(field: string): boolean {
    return (this.auth() === 'oauth' && OAUTH_FIELDS[this.kind()] ? OAUTH_FIELDS[this.kind()] : (PROVIDER_FIELDS[this.kind()] ?? [])).includes(field as never);
  }

  async create(): Promise<void> {
    if (this.form.invalid) return this.form.markAllAsTouched();
    this.busy.set(true);
    this.problem.set(null);
    try {
      await firstValueFrom(this.api.create(this.orgId()!, providerBody(this.form.getRawValue())));
      const dir = this.formDirective();
      if (dir) dir.resetForm({ ...this.form.getRawValue(), name: '', privateKey: '', webhookSecret: '', token: '', appId: '', installationId: '', clientId: '', clientSecret: '' });
      else this.form.reset();
      await this.list.load();
    } catch (e) {
      this.problem.set(applyProblem(this.form, toProblem(e)));
    } finally {
      this.busy.set(false);
    }
  }

  webhookUrl(p: GitProvider): string | null {
    return providerWebhookUrl(p, globalThis.location?.origin ?? '');
  }
  copy(text: string, id: string): void {
    this.clipboard.copy(text);
    this.copied.set(id);
  }
  isSecret(field: string): boolean {
    return SECRET_FIELDS.has(field);
  }
  fieldLabel(kind: string, field: string): string {
    const labels: Record<string, string> = {
      baseUrl: 'Base URL', appId: 'App ID', installationId: 'Installation ID', privateKey: 'Private key (PEM)', webhookSecret: 'Webhook secret', workspace: 'Workspace',
      username: 'Username (app password)', clientId: 'Application ID', clientSecret: 'Application secret', token: kind === 'bitbucket' ? 'App password or access token' : 'Access token',
    };
    return labels[field] ?? field;
  }
  editControl(field: string) {
    return this.editForm.get(field) as (typeof this.editForm)['controls']['name'];
  }

  /** Opens the edit form with the connection's settings; secret fields start empty (empty keeps the stored value). */
  edit(p: GitProvider): void {
    this.editProblem.set(null);
    this.editForm.reset({ name: p.name, baseUrl: p.baseUrl, appId: p.appId ?? '', installationId: p.installationId ?? '', username: p.username ?? '', workspace: p.workspace ?? '', clientId: p.clientId ?? '', privateKey: '', webhookSecret: '', token: '', clientSecret: '' });
    this.editing.set(p);
  }

  async save(p: GitProvider): Promise<void> {
    if (this.editForm.invalid) return this.editForm.markAllAsTouched();
    this.busy.set(true);
    this.editProblem.set(null);
    try {
      await firstValueFrom(this.api.update(p, providerPatch(p, this.editForm.getRawValue())));
      this.editing.set(null);
      await this.list.load();
    } catch (e) {
      this.editProblem.set(applyProblem(this.editForm, toProblem(e)));
    } finally {
      this.busy.set(false);
    }
  }

  async test(p: GitProvider): Promise<void> {
    this.results.update((x) => ({ ...x, [p.id]: 'Testing…' }));
    try {
      const res = await firstValueFrom(this.api.test(p.id));
      this.results.update((x) => ({ ...x, [p.id]: res.ok ? `Connected: ${res.message}` : `Failed: ${res.message}` }));
    } catch (e) {
      this.results.update((x) => ({ ...x, [p.id]: `Failed: ${toProblem(e).detail}` }));
    }
  }

  async remove(p: GitProvider): Promise<void> {
    if (!confirm(`Delete the Git provider connection ${p.name}?`)) return;
    try {
      await firstValueFrom(this.api.remove(p.id));
      await this.list.load();
    } catch (e) {
      this.listProblem.set(toProblem(e));
    }
  }
}
