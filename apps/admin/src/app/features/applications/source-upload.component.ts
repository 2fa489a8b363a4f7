import { DatePipe } from '@angular/common';
import { HttpEventType } from '@angular/common/http';
import { ChangeDetectionStrategy, Component, DestroyRef, ElementRef, inject, input, output, signal, viewChild } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatCheckboxModule } from '@angular/material/checkbox';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { MatSnackBar } from '@angular/material/snack-bar';
import { RouterLink } from '@angular/router';
import { Subscription } from 'rxjs';
import { toProblem } from '../../core/api/problem';
import { ApplicationSource, SourcesApi, SourceUploadResult } from '../../core/api/sources-api.service';
import { OrgContext } from '../../core/org/org-context.service';
import { archiveContentType, formatBytes } from './source-form';

/**
 * An upload source's archive: the one the next deployment builds (name, size, sha256, who uploaded it and when) and
 * the form to upload another (a .tar.gz, .tgz, .tar or .zip file; optionally deployed at once). Progress while it is sent;
 * what the server refuses (a bad entry, too large, not an archive) shows at the file field.
 */
@Component({
  selector: 'w-source-upload',
  imports: [DatePipe, FormsModule, RouterLink, MatButtonModule, MatCheckboxModule, MatProgressBarModule],
  template: `
    <section class="w-card w-form" aria-label="Source archive">
      <h2>Source archive</h2>
      @if (source().upload; as u) {
        <dl class="last" data-testid="last-upload">
          <dt>File</dt><dd data-testid="upload-name">{{ u.fileName }}</dd>
          <dt>Size</dt><dd data-testid="upload-size">{{ size(u.size) }} · {{ u.entries }} entries</dd>
          <dt>sha256</dt><dd><code data-testid="upload-sha256">{{ u.sha256 }}</code></dd>
          <dt>Uploaded</dt><dd data-testid="upload-time">{{ u.uploadedAt | date: 'medium' }} by {{ u.uploadedBy.name }}</dd>
        </dl>
      } @else {
        <p class="w-muted" data-testid="no-upload">No archive uploaded yet: upload one to deploy this application.</p>
      }
      @if (canUpdate()) {
        <p class="w-muted">A .tar.gz, .tgz, .tar or .zip of the source. Paths are relative to the archive's root (set the build path above when everything sits in one folder); links must stay inside it.</p>
        <div class="field" [class.invalid]="!!error()">
          <label for="w-upload-file">Archive</label>
          <input #file id="w-upload-file" type="file" accept=".tar.gz,.tgz,.tar,.zip,application/gzip,application/x-tar,application/zip" (change)="picked(file.files)" [disabled]="busy()" [attr.aria-invalid]="!!error()" aria-describedby="w-upload-error" />
          @if (error(); as e) { <div id="w-upload-error" class="error" role="alert" data-testid="upload-error">{{ e }}</div> }
        </div>
        @if (canDeploy()) {
          <mat-checkbox [(ngModel)]="deploy" [disabled]="busy()">Deploy after the upload</mat-checkbox>
        }
        @if (busy()) {
          <mat-progress-bar [mode]="progress() === null ? 'indeterminate' : 'determinate'" [value]="progress() ?? 0" aria-label="Upload progress" />
          <p class="w-muted" role="status">{{ progress() === null || progress()! >= 100 ? 'Checking the archive…' : 'Uploading… ' + progress() + '%' }}</p>
        }
        <div class="w-row">
          <button mat-flat-button type="button" (click)="upload()" [disabled]="busy() || !chosen()">Upload{{ deploy ? ' and deploy' : '' }}</button>
          @if (queued(); as id) {
            <span role="status">Deployment queued: <a [routerLink]="['/orgs', orgId(), 'applications', source().applicationId, 'deployments']" [queryParams]="{ deployment: id }">{{ id.slice(-8) }}</a></span>
          }
        </div>
      }
    </section>
  `,
  styles: `
    h2 { margin: 0 0 8px; }
    .last { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0 0 12px; }
    .last dt { color: var(--mat-sys-on-surface-variant); }
    .last dd { margin: 0; overflow-wrap: anywhere; }
    .field { display: flex; flex-direction: column; gap: 4px; margin: 8px 0; }
    .field.invalid input { outline: 2px solid var(--mat-sys-error); }
    .error { color: var(--mat-sys-error); font-size: 12px; }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class SourceUploadComponent {
  readonly source = input.required<ApplicationSource>();
  readonly canUpdate = input(false);
  readonly canDeploy = input(false);
  /** A new archive is the source's: the parent shows the answer's source. */
  readonly uploaded = output<SourceUploadResult>();
  private readonly api = inject(SourcesApi);
  private readonly snack = inject(MatSnackBar);
  readonly orgId = inject(OrgContext).currentId;
  private readonly fileInput = viewChild<ElementRef<HTMLInputElement>>('file');
  readonly chosen = signal<File | null>(null);
  readonly error = signal<string | null>(null);
  readonly busy = signal(false);
  /** Percent sent; null while the size is unknown or the server checks the archive. */
  readonly progress = signal<number | null>(null);
  readonly queued = signal<string | null>(null);
  deploy = false;
  readonly size = formatBytes;
  private sending: Subscription | null = null;

  constructor() {
    // Leaving the tab ends an upload still being sent.
    inject(DestroyRef).onDestroy(() => this.sending?.unsubscribe());
  }

  picked(files: FileList | null): void {
    const f = files?.[0] ?? null;
    this.chosen.set(f);
    this.queued.set(null);
    this.error.set(f && !archiveContentType(f.name) ? 'Choose a .tar.gz, .tgz, .tar or .zip file' : null);
  }

  upload(): void {
    const f = this.chosen();
    if (!f || this.busy()) return;
    const type = archiveContentType(f.name);
    if (!type) return void this.error.set('Choose a .tar.gz, .tgz, .tar or .zip file');
    this.busy.set(true);
    this.error.set(null);
    this.progress.set(0);
    this.sending = this.api.upload(this.source().applicationId, new Blob([f], { type }), { fileName: f.name, deploy: this.deploy && this.canDeploy(), version: this.source().version }).subscribe({
      next: (ev) => {
        if (ev.type === HttpEventType.UploadProgress) this.progress.set(ev.total ? Math.round((ev.loaded / ev.total) * 100) : null);
        else if (ev.type === HttpEventType.Response && ev.body) this.done(ev.body, f.name);
      },
      error: (e: unknown) => {
        const p = toProblem(e);
        // What concerns the archive (refused, too large, not an archive, wrong type) belongs at the file field.
        this.error.set(p.errors?.[0]?.detail ?? p.detail ?? 'The upload failed');
        this.busy.set(false);
      },
    });
  }

  private done(r: SourceUploadResult, name: string): void {
    this.busy.set(false);
    this.progress.set(null);
    this.chosen.set(null);
    const input = this.fileInput()?.nativeElement;
    if (input) input.value = '';
    this.queued.set(r.deployment?.id ?? null);
    this.snack.open(`Uploaded ${name}${r.deployment ? '; deployment queued' : '; the next deployment builds it'}`, 'Dismiss', { duration: 4000 });
    this.uploaded.emit(r);
  }
}
