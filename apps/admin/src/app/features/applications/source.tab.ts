import { Clipboard } from '@angular/cdk/clipboard';
import { ChangeDetectionStrategy, Component, computed, effect, inject, signal, untracked, viewChild } from '@angular/core';
import { FormControl, FormGroup, FormGroupDirective, NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatCheckboxModule } from '@angular/material/checkbox';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatSelectModule } from '@angular/material/select';
import { MatSnackBar } from '@angular/material/snack-bar';
import { firstValueFrom } from 'rxjs';
import { applyProblem, fieldError, Problem, toProblem } from '../../core/api/problem';
import { ApplicationSource, SourcesApi } from '../../core/api/sources-api.service';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';
import { ApplicationStore } from './application.store';
import { AuthKind, BUILD_KINDS, BuildArgRow, BuildKind, BuildSecretRow, EMPTY_SOURCE, formToBody, sourceErrorsToForm, SourceFormValue, SourceKind, sourceToForm } from './source-form';
import { SourceUploadComponent } from './source-upload.component';
import type { SourceUploadResult } from '../../core/api/sources-api.service';
import { SourceWebhooksComponent } from './source-webhooks.component';
import { DeployCommitComponent } from './deploy-commit.component';
import { SourceProviderComponent } from './source-provider.component';

type ArgGroup = FormGroup<{ name: FormControl<string>; value: FormControl<string> }>;
type SecretGroup = FormGroup<{ name: FormControl<string>; value: FormControl<string>; stored: FormControl<boolean> }>;

/** A build secret name as the API takes it. */
const BUILD_SECRET_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** A build argument name as the API takes it (checked here to answer before sending). */
const BUILD_ARG_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The application's Git source: without one, the application runs its image and may be connected to a repository;
 * with one, the whole source in one form (repository, ref, paths, authentication — a stored token is never shown —,
 * deploy key and known hosts, build type with its fields and write-only build secrets), saved with If-Match, server field errors at their fields; the
 * webhooks panel below. Write controls only with `application:update` (the form is read-only otherwise).
 */
@Component({
  selector: 'w-app-source',
  imports: [ReactiveFormsModule, MatButtonModule, MatCheckboxModule, MatFormFieldModule, MatInputModule, MatSelectModule, ProblemAlertComponent, SourceWebhooksComponent, DeployCommitComponent, SourceProviderComponent, SourceUploadComponent],
  template: `
    <w-problem [problem]="problem()" />
    @if (source() === undefined) {
      <p class="w-muted">Loading the source…</p>
    } @else if (source() === null && !connecting()) {
      <section class="w-card" aria-label="No Git source">
        <p>This application runs its image: each deployment pulls the image its settings name. Connect a Git repository to build it from source instead, on every deployment and on each push, or upload the source as an archive.</p>
        @if (store.canUpdate()) {
          <div class="w-row">
            <button mat-flat-button type="button" (click)="connect()">Connect a Git repository</button>
            <button mat-stroked-button type="button" (click)="connect('upload')">Upload a source archive</button>
          </div>
        }
      </section>
    } @else {
      <form class="w-card w-form" [formGroup]="form" (ngSubmit)="save()" novalidate aria-label="Git source">
        <h2>{{ source() ? (sourceKind() === 'upload' ? 'Upload source' : 'Git source') : sourceKind() === 'upload' ? 'Build from uploaded archives' : 'Connect a Git repository' }}</h2>
        <mat-form-field>
          <mat-label>Source</mat-label>
          <mat-select formControlName="kind" data-testid="source-kind">
            <mat-option value="git">Git repository</mat-option>
            <mat-option value="upload">Upload (source archive)</mat-option>
          </mat-select>
          <mat-hint>{{ sourceKind() === 'upload' ? 'Each deployment builds the archive uploaded last' : 'Each deployment checks out the repository' }}</mat-hint>
        </mat-form-field>
        @if (sourceKind() === 'git') {
        @if (store.app(); as a) {
          <w-source-provider [organizationId]="a.organizationId" [providerId]="form.controls.providerId" [repository]="form.controls.repository" [ref]="form.controls.ref" [disabled]="!store.canUpdate()" />
        }
        <div class="w-row">
          <mat-form-field class="grow"><mat-label>Repository</mat-label><input matInput formControlName="repository" autocomplete="off" spellcheck="false" placeholder="https://git.example.com/acme/shop.git" /><mat-hint>https://host/path.git, ssh://user&#64;host/path or user&#64;host:path</mat-hint><mat-error>{{ fieldError(form.controls.repository, 'Repository') }}</mat-error></mat-form-field>
          <mat-form-field><mat-label>Ref</mat-label><input matInput formControlName="ref" autocomplete="off" spellcheck="false" /><mat-hint>A branch, a tag or a commit id</mat-hint><mat-error>{{ fieldError(form.controls.ref, 'Ref') }}</mat-error></mat-form-field>
        </div>
        }
        <div class="w-row">
          <mat-form-field><mat-label>Build path</mat-label><input matInput formControlName="buildPath" autocomplete="off" spellcheck="false" /><mat-hint>Relative to the {{ sourceKind() === 'upload' ? "archive's" : "repository's" }} root</mat-hint><mat-error>{{ fieldError(form.controls.buildPath, 'Build path') }}</mat-error></mat-form-field>
          @if (sourceKind() === 'git') {
          <mat-form-field class="grow">
            <mat-label>Watch paths (one glob per line)</mat-label>
            <textarea matInput formControlName="watchPaths" rows="2" spellcheck="false"></textarea>
            <mat-hint>A push deploys only when a changed file matches one; empty: any change</mat-hint>
            <mat-error>{{ fieldError(form.controls.watchPaths, 'Watch paths') }}</mat-error>
          </mat-form-field>
          }
        </div>
        @if (sourceKind() === 'git') {
        <mat-form-field class="full">
          <mat-label>Deploying tags (one glob per line)</mat-label>
          <textarea matInput formControlName="deployTags" rows="2" spellcheck="false" placeholder="v*"></textarea>
          <mat-hint>A pushed tag that matches one deploys its commit; empty: tags never deploy</mat-hint>
          <mat-error>{{ fieldError(form.controls.deployTags, 'Deploying tags') }}</mat-error>
        </mat-form-field>
        <mat-checkbox formControlName="submodules">Check out submodules</mat-checkbox>

        @if (providerId()) {
          <p class="w-muted" data-testid="provider-auth">The Git provider connection supplies the credentials for each checkout.</p>
        }
        <fieldset formGroupName="auth" [hidden]="!!providerId()">
          <legend>Authentication</legend>
          <div class="w-row">
            <mat-form-field>
              <mat-label>Authentication</mat-label>
              <mat-select formControlName="kind">
                <mat-option value="none">None (public repository)</mat-option>
                <mat-option value="token">Access token</mat-option>
                <mat-option value="deploy-key">Deploy key (SSH)</mat-option>
              </mat-select>
              <mat-error>{{ fieldError(form.controls.auth.controls.kind, 'Authentication') }}</mat-error>
            </mat-form-field>
            @if (authKind() === 'token') {
              <mat-form-field><mat-label>Username</mat-label><input matInput formControlName="username" autocomplete="off" placeholder="x-access-token" /><mat-hint>Optional</mat-hint><mat-error>{{ fieldError(form.controls.auth.controls.username, 'Username') }}</mat-error></mat-form-field>
              <mat-form-field class="grow">
                <mat-label>Access token</mat-label>
                <input matInput type="password" formControlName="token" autocomplete="new-password" spellcheck="false" />
                @if (tokenStored()) { <mat-hint data-testid="token-stored">A token is stored; leave empty to keep it</mat-hint> } @else { <mat-hint>Read-only access to the repository is enough</mat-hint> }
                <mat-error>{{ fieldError(form.controls.auth.controls.token, 'Access token') }}</mat-error>
              </mat-form-field>
            }
          </div>
          @if (authKind() === 'deploy-key') {
            @if (source()?.deployKey; as key) {
              <div class="key">
                <p>Add this public key to the repository as a read-only deploy key:</p>
                <div class="w-row">
                  <code class="w-secret grow" data-testid="deploy-key">{{ key.publicKey }}</code>
                  <button mat-stroked-button type="button" (click)="copyKey(key.publicKey)" aria-label="Copy the public key">{{ keyCopied() ? 'Copied' : 'Copy' }}</button>
                </div>
                <p class="w-muted">Fingerprint <code>{{ key.fingerprint }}</code></p>
                @if (store.canUpdate()) {
                  <button mat-button type="button" (click)="newKey()" [disabled]="busy()">Generate a new key</button>
                }
              </div>
            } @else {
              <p class="w-muted">A key pair is generated when you save; its public key then shows here.</p>
            }
            <!-- In the authentication fieldset, but a field of the source (the fieldset's group is auth). -->
            <mat-form-field class="full">
              <mat-label>Known hosts (one known_hosts line each)</mat-label>
              <textarea matInput [formControl]="form.controls.knownHosts" rows="3" spellcheck="false"></textarea>
              <mat-hint>Paste what <code>ssh-keyscan host</code> prints; no host key is trusted on first use</mat-hint>
              <mat-error>{{ fieldError(form.controls.knownHosts, 'Known hosts') }}</mat-error>
            </mat-form-field>
          }
        </fieldset>
        }

        <fieldset formGroupName="build">
          <legend>Build</legend>
          <mat-form-field>
            <mat-label>Build type</mat-label>
            <mat-select formControlName="kind">
              @for (k of buildKinds; track k.kind) { <mat-option [value]="k.kind">{{ k.label }}</mat-option> }
            </mat-select>
            <mat-hint>{{ buildKindHint() }}</mat-hint>
            <mat-error>{{ fieldError(form.controls.build.controls.kind, 'Build type') }}</mat-error>
          </mat-form-field>
          @if (buildKind() === 'static') {
            <div class="w-row">
              <mat-form-field class="grow"><mat-label>Publish directory</mat-label><input matInput formControlName="publishDirectory" autocomplete="off" spellcheck="false" /><mat-hint>Relative to the build path (e.g. dist); . serves the build path itself</mat-hint><mat-error>{{ fieldError(form.controls.build.controls.publishDirectory, 'Publish directory') }}</mat-error></mat-form-field>
            </div>
            <mat-checkbox formControlName="spaFallback">Single-page application: unknown paths answer with index.html</mat-checkbox>
            <p class="w-muted">The site is served on port 8080. The fallback page is sent with status 404 (busybox httpd), which browsers display normally.</p>
          }
          @if (buildKind() === 'dockerfile' || buildKind() === 'auto') {
          <div class="w-row">
            <mat-form-field class="grow"><mat-label>Dockerfile path</mat-label><input matInput formControlName="dockerfile" autocomplete="off" spellcheck="false" /><mat-hint>Relative to the build path</mat-hint><mat-error>{{ fieldError(form.controls.build.controls.dockerfile, 'Dockerfile path') }}</mat-error></mat-form-field>
            <mat-form-field><mat-label>Target stage</mat-label><input matInput formControlName="target" autocomplete="off" spellcheck="false" /><mat-hint>Optional</mat-hint><mat-error>{{ fieldError(form.controls.build.controls.target, 'Target stage') }}</mat-error></mat-form-field>
          </div>
          }
          <p class="w-muted">Build arguments are kept in the image history: never put secrets in them.</p>
          @for (a of args.controls; track a; let i = $index) {
            <div class="w-row" [formGroup]="a">
              <mat-form-field><mat-label>Argument name {{ i + 1 }}</mat-label><input matInput formControlName="name" autocomplete="off" spellcheck="false" /><mat-error>{{ fieldError(a.controls.name, 'Name') }}</mat-error></mat-form-field>
              <mat-form-field class="grow"><mat-label>Argument value {{ i + 1 }}</mat-label><input matInput formControlName="value" autocomplete="off" spellcheck="false" /><mat-error>{{ fieldError(a.controls.value, 'Value') }}</mat-error></mat-form-field>
              @if (store.canUpdate()) { <button mat-button type="button" (click)="args.removeAt(i)">Remove argument {{ i + 1 }}</button> }
            </div>
          }
          @if (store.canUpdate()) { <button mat-stroked-button type="button" (click)="addArg()">Add build argument</button> }

          <h4>Build secrets</h4>
          <p class="w-muted">Used by <code>RUN --mount=type=secret,id=NAME</code> steps of a Dockerfile; never stored in the image, the log or shown again. Leave a stored secret's value empty to keep it.</p>
          @for (sec of secrets.controls; track sec; let i = $index) {
            <div class="w-row" [formGroup]="sec">
              <mat-form-field><mat-label>Secret name {{ i + 1 }}</mat-label><input matInput formControlName="name" autocomplete="off" spellcheck="false" /><mat-error>{{ fieldError(sec.controls.name, 'Name') }}</mat-error></mat-form-field>
              <mat-form-field class="grow">
                <mat-label>Secret value {{ i + 1 }}</mat-label>
                <input matInput type="password" formControlName="value" autocomplete="new-password" [placeholder]="sec.controls.stored.value ? 'A value is stored (empty keeps it)' : ''" />
                @if (sec.controls.stored.value) { <mat-hint>A value is stored; type a new one to replace it</mat-hint> }
                <mat-error>{{ fieldError(sec.controls.value, 'Value') }}</mat-error>
              </mat-form-field>
              @if (store.canUpdate()) { <button mat-button type="button" (click)="secrets.removeAt(i)">Remove secret {{ i + 1 }}</button> }
            </div>
          }
          @if (store.canUpdate()) { <button mat-stroked-button type="button" (click)="addSecret()">Add build secret</button> }
        </fieldset>

        @if (store.canUpdate()) {
          <div class="w-row">
            <button mat-flat-button type="submit" [disabled]="busy()">{{ source() ? 'Save source' : sourceKind() === 'upload' ? 'Save and choose an archive' : 'Connect' }}</button>
            @if (source()) {
              <button mat-button type="button" (click)="reset()" [disabled]="busy()">Discard changes</button>
              <span class="w-spacer"></span>
              <button mat-button type="button" class="danger" (click)="disconnect()" [disabled]="busy()">Disconnect</button>
            } @else {
              <button mat-button type="button" (click)="connecting.set(false)">Cancel</button>
            }
          </div>
        }
      </form>
      @if (source(); as s) {
        @if (s.kind === 'upload') {
          <w-source-upload [source]="s" [canUpdate]="store.canUpdate()" [canDeploy]="store.canDeploy()" (uploaded)="onUploaded($event)" />
        } @else {
          @if (store.canDeploy()) {
            <w-deploy-commit [applicationId]="s.applicationId" [sourceRef]="s.ref" />
          }
          <w-source-webhooks [applicationId]="s.applicationId" [source]="s" [canUpdate]="store.canUpdate()" />
        }
      }
    }
  `,
  styles: `
    h2 { margin: 0 0 8px; }
    fieldset { border: 1px solid var(--mat-sys-outline-variant); border-radius: 8px; margin: 12px 0; padding: 8px 16px; }
    legend { padding: 0 4px; }
    .grow { flex: 1 1 320px; }
    .full { width: 100%; }
    .key code { overflow-wrap: anywhere; }
    .danger { color: var(--mat-sys-error); }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class SourceTab {
  readonly store = inject(ApplicationStore);
  private readonly api = inject(SourcesApi);
  private readonly snack = inject(MatSnackBar);
  private readonly clipboard = inject(Clipboard);
  private readonly fb = inject(NonNullableFormBuilder);
  /** undefined: loading; null: the application has no source (it runs its image). */
  readonly source = signal<ApplicationSource | null | undefined>(undefined);
  /** The form is open to connect a repository (no source yet). */
  readonly connecting = signal(false);
  readonly problem = signal<Problem | null>(null);
  readonly busy = signal(false);
  readonly keyCopied = signal(false);
  readonly fieldError = fieldError;
  readonly tokenStored = computed(() => !!this.source()?.auth.tokenSet);
  private readonly formDirective = viewChild(FormGroupDirective);

  readonly args = this.fb.array<ArgGroup>([]);
  readonly secrets = this.fb.array<SecretGroup>([]);
  readonly buildKinds = BUILD_KINDS;
  /** The build type chosen in the form (which fields show). */
  readonly buildKind = signal<BuildKind>('dockerfile');
  readonly buildKindHint = computed(() => BUILD_KINDS.find((k) => k.kind === this.buildKind())?.hint ?? '');
  readonly form = this.fb.group({
    kind: this.fb.control<SourceKind>('git'),
    repository: ['', Validators.required],
    ref: ['main', Validators.required],
    buildPath: ['.'],
    watchPaths: [''],
    submodules: [false],
    deployTags: [''],
    auth: this.fb.group({ kind: this.fb.control<AuthKind>('none'), username: [''], token: [''] }),
    providerId: [''],
    knownHosts: [''],
    build: this.fb.group({
      kind: this.fb.control<BuildKind>('dockerfile'), dockerfile: ['Dockerfile'], target: [''], args: this.args,
      publishDirectory: ['.'], spaFallback: [false], secrets: this.secrets,
    }),
  });
  /** The authentication chosen in the form (what the fields below it show). */
  readonly authKind = signal<AuthKind>('none');
  /** Git repository or uploaded archives (which fields show; the repository and ref are not asked for uploads). */
  readonly sourceKind = signal<SourceKind>('git');
  /** The Git provider connection chosen in the form ('' for none). */
  readonly providerId = signal('');

  constructor() {
    this.form.controls.auth.controls.kind.valueChanges.subscribe((k) => this.authKind.set(k));
    this.form.controls.build.controls.kind.valueChanges.subscribe((k) => this.buildKind.set(k));
    this.form.controls.providerId.valueChanges.subscribe((v) => this.providerId.set(v));
    this.form.controls.kind.valueChanges.subscribe((k) => {
      this.sourceKind.set(k);
      this.applyKind();
    });
    effect(() => {
      const id = this.store.app()?.id;
      if (id) untracked(() => void this.load(id));
    });
    // Without application:update the form shows the source read-only.
    effect(() => {
      const can = this.store.canUpdate();
      untracked(() => {
        if (can) this.form.enable({ emitEvent: false });
        else this.form.disable({ emitEvent: false });
        this.applyKind();
      });
    });
  }

  /** An upload source has no repository or ref: those controls stay out of the form's validity. */
  private applyKind(): void {
    const upload = this.sourceKind() === 'upload';
    for (const c of [this.form.controls.repository, this.form.controls.ref]) {
      if (upload || !this.store.canUpdate()) c.disable({ emitEvent: false });
      else c.enable({ emitEvent: false });
    }
  }

  private argGroup(r: BuildArgRow = { name: '', value: '' }): ArgGroup {
    return this.fb.group({ name: [r.name, [Validators.required, Validators.pattern(BUILD_ARG_NAME)]], value: [r.value] });
  }
  addArg(): void {
    this.args.push(this.argGroup());
  }

  private secretGroup(r: BuildSecretRow = { name: '', value: '', stored: false }): SecretGroup {
    return this.fb.group({
      name: [r.name, [Validators.required, Validators.pattern(BUILD_SECRET_NAME)]],
      // A new secret needs a value; a stored one keeps its value when this stays empty.
      value: [r.value, r.stored ? [] : [Validators.required]],
      stored: [r.stored],
    });
  }
  addSecret(): void {
    this.secrets.push(this.secretGroup());
  }

  /** Puts a value in the form: rows rebuilt, nothing touched, no submitted state, no error shown. */
  private fill(v: SourceFormValue): void {
    this.args.clear({ emitEvent: false });
    for (const r of v.build.args) this.args.push(this.argGroup(r), { emitEvent: false });
    this.secrets.clear({ emitEvent: false });
    for (const r of v.build.secrets) this.secrets.push(this.secretGroup(r), { emitEvent: false });
    const dir = this.formDirective();
    if (dir) dir.resetForm(v);
    else this.form.reset(v);
    this.authKind.set(v.auth.kind);
    this.providerId.set(v.providerId ?? '');
    this.buildKind.set(v.build.kind);
    this.sourceKind.set(v.kind ?? 'git');
    if (!this.store.canUpdate()) this.form.disable({ emitEvent: false });
    this.applyKind();
  }

  async load(applicationId: string): Promise<void> {
    try {
      const s = await firstValueFrom(this.api.get(applicationId));
      this.show(s);
    } catch (e) {
      const p = toProblem(e);
      if (p.status === 404) this.show(null);
      else this.problem.set(p);
    }
  }

  private show(s: ApplicationSource | null): void {
    this.source.set(s);
    this.connecting.set(false);
    this.keyCopied.set(false);
    this.fill(s ? sourceToForm(s) : EMPTY_SOURCE);
  }

  connect(kind: SourceKind = 'git'): void {
    this.problem.set(null);
    this.fill({ ...EMPTY_SOURCE, kind });
    this.connecting.set(true);
  }

  /** A new archive: the answer's source (its version and upload) replaces the shown one; the form keeps what is typed. */
  onUploaded(r: SourceUploadResult): void {
    this.source.set(r.source);
  }

  reset(): void {
    this.problem.set(null);
    const s = this.source();
    this.fill(s ? sourceToForm(s) : EMPTY_SOURCE);
  }

  async save(): Promise<void> {
    const a = this.store.app();
    if (!a || !this.store.canUpdate()) return;
    if (this.form.invalid) {
      this.form.markAllAsTouched();
      return;
    }
    const value = this.form.getRawValue() as SourceFormValue;
    this.busy.set(true);
    this.problem.set(null);
    try {
      const saved = await firstValueFrom(this.api.set(a.id, formToBody(value), this.source()?.version ?? null));
      this.show(saved);
      this.snack.open('Source saved; the next deployment builds it', 'Dismiss', { duration: 4000 });
    } catch (e) {
      this.problem.set(applyProblem(this.form, sourceErrorsToForm(toProblem(e), value)));
    } finally {
      this.busy.set(false);
    }
  }

  async newKey(): Promise<void> {
    const a = this.store.app();
    if (!a || !confirm('Generate a new deploy key? The current key stops working: add the new public key to the repository before the next deployment.')) return;
    await this.run(async () => {
      const s = await firstValueFrom(this.api.newDeployKey(a.id));
      // Keep what is being typed; only the key (and the version) change.
      this.source.set(s);
      this.keyCopied.set(false);
    });
  }

  async disconnect(): Promise<void> {
    const a = this.store.app();
    const what = this.source()?.kind === 'upload' ? 'the upload source' : 'the Git repository';
    if (!a || !confirm(`Disconnect ${what} from ${a.name}? Its deploy key and webhook secret are deleted; the application runs its image again at the next deployment.`)) return;
    await this.run(async () => {
      await firstValueFrom(this.api.remove(a.id));
      this.show(null);
    });
  }

  copyKey(key: string): void {
    this.keyCopied.set(this.clipboard.copy(key));
  }

  private async run(fn: () => Promise<void>): Promise<void> {
    this.busy.set(true);
    this.problem.set(null);
    try {
      await fn();
    } catch (e) {
      this.problem.set(toProblem(e));
    } finally {
      this.busy.set(false);
    }
  }
}
