import { ChangeDetectionStrategy, Component, computed, inject, input, output, signal } from '@angular/core';
import { NonNullableFormBuilder, ReactiveFormsModule, Validators } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatSnackBar } from '@angular/material/snack-bar';
import { firstValueFrom } from 'rxjs';
import { CertificatesApi } from '../../core/api/certificates-api.service';
import type { Domain } from '../../core/api/domains-api.service';
import { applyProblem, fieldError, Problem, toProblem } from '../../core/api/problem';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';
import { uploadErrorsToForm } from './certificate-view';
import { CertificatesStore } from './certificates.store';
import { domainLabel } from './domain-form';

/**
 * Upload a certificate for a domain (used instead of ACME until removed): the chain and the unencrypted key as PEM.
 * The server checks key, chain, names and dates; its field errors show under the field they name.
 */
@Component({
  selector: 'w-certificate-upload',
  imports: [ReactiveFormsModule, MatButtonModule, MatFormFieldModule, MatInputModule, ProblemAlertComponent],
  template: `
    <form class="w-card w-form" [formGroup]="form" (ngSubmit)="save()" novalidate [attr.aria-label]="title()">
      <h2>{{ title() }}</h2>
      <p class="w-muted">It is used instead of ACME until you remove it. The key is stored encrypted and never shown again.</p>
      <w-problem [problem]="problem()" />
      <mat-form-field>
        <mat-label>Certificate chain (PEM)</mat-label>
        <textarea matInput formControlName="certificatePem" rows="6" spellcheck="false" placeholder="-----BEGIN CERTIFICATE-----"></textarea>
        <mat-hint>The certificate first, then each intermediate</mat-hint>
        <mat-error>{{ fieldError(form.controls.certificatePem, 'The certificate chain') }}</mat-error>
      </mat-form-field>
      <mat-form-field>
        <mat-label>Private key (PEM)</mat-label>
        <textarea matInput formControlName="privateKeyPem" rows="6" spellcheck="false" autocomplete="off" placeholder="-----BEGIN PRIVATE KEY-----"></textarea>
        <mat-hint>Unencrypted</mat-hint>
        <mat-error>{{ fieldError(form.controls.privateKeyPem, 'The private key') }}</mat-error>
      </mat-form-field>
      <div class="w-row">
        <button mat-flat-button type="submit" [disabled]="busy()">Upload</button>
        <button mat-button type="button" (click)="closed.emit()">Cancel</button>
      </div>
    </form>
  `,
  styles: `h2 { margin: 0 0 8px; } textarea { font-family: ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace; font-size: 12px; }`,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class CertificateUploadComponent {
  readonly domain = input.required<Domain>();
  /** Uploaded or cancelled. */
  readonly closed = output<void>();
  private readonly api = inject(CertificatesApi);
  private readonly store = inject(CertificatesStore);
  private readonly snack = inject(MatSnackBar);
  readonly fieldError = fieldError;
  readonly problem = signal<Problem | null>(null);
  readonly busy = signal(false);
  readonly title = computed(() => `Upload a certificate for ${domainLabel(this.domain())}`);
  readonly form = inject(NonNullableFormBuilder).group({ certificatePem: ['', Validators.required], privateKeyPem: ['', Validators.required] });

  async save(): Promise<void> {
    if (this.form.invalid) return this.form.markAllAsTouched();
    this.busy.set(true);
    this.problem.set(null);
    try {
      await firstValueFrom(this.api.upload(this.domain().id, this.form.getRawValue()));
      this.snack.open(`Certificate for ${domainLabel(this.domain())} uploaded`, 'Dismiss', { duration: 4000 });
      await this.store.load();
      this.closed.emit();
    } catch (e) {
      this.problem.set(applyProblem(this.form, uploadErrorsToForm(toProblem(e))));
    } finally {
      this.busy.set(false);
    }
  }
}
