import { ChangeDetectionStrategy, Component, computed, effect, inject, input, output, signal, untracked } from '@angular/core';
import { FormControl, ReactiveFormsModule } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { DOCUMENT } from '@angular/common';
import { firstValueFrom } from 'rxjs';
import { Problem, toProblem } from '../../core/api/problem';
import type { VariableBackend } from '../../core/api/resources-api.service';
import { EnvLineError, formatEnv, parseEnv } from '../env/dotenv';
import { ProblemAlertComponent } from './problem-alert.component';

export interface EnvRow { key: string; value: string | null; secret: boolean }
/** What a secret shows in the text until it is revealed; a line left with it keeps the stored secret. */
export const SECRET_MASK = '••••••••';

/**
 * The variables as raw `.env` text: paste to set many at once (keys not in the text are kept), "Reveal all" asks the
 * audited reveal call once per secret, and the download is built in the browser from the revealed values only.
 */
@Component({
  selector: 'w-env-editor',
  imports: [ReactiveFormsModule, MatButtonModule, MatFormFieldModule, MatInputModule, ProblemAlertComponent],
  template: `
    <section class="env" [attr.aria-label]="'.env editor (' + label() + ')'">
      <w-problem [problem]="problem()" />
      <p class="w-muted">One <code>KEY=value</code> per line. Applying sets every key in the text (new keys are plain, existing ones keep their kind); keys not in the text are kept. Secrets show as {{ mask }} until revealed.</p>
      <mat-form-field class="text">
        <mat-label>.env contents</mat-label>
        <textarea matInput [formControl]="text" rows="10" spellcheck="false" autocomplete="off" [readonly]="!canEdit()"></textarea>
      </mat-form-field>
      @if (lineErrors().length) {
        <div class="w-card errors" role="alert" aria-label="Invalid .env lines">
          <p>Nothing was saved: fix these lines first.</p>
          <ul>
            @for (e of lineErrors(); track e.line) { <li>Line {{ e.line }}: {{ e.message }}</li> }
          </ul>
        </div>
      }
      @if (message()) { <p role="status">{{ message() }}</p> }
      <div class="w-row">
        @if (canEdit()) { <button mat-flat-button type="button" (click)="apply()" [disabled]="busy()">Apply .env</button> }
        @if (canReveal() && hasHiddenSecrets()) { <button mat-button type="button" (click)="revealAll()" [disabled]="busy()">Reveal all</button> }
        <button mat-button type="button" (click)="download()" [disabled]="!canDownload()">Download .env</button>
        <button mat-button type="button" (click)="closed.emit()">Close</button>
      </div>
    </section>
  `,
  styles: `.env { margin-bottom: 16px; } .text { width: 100%; } textarea { font-family: monospace; } .errors { border-left: 4px solid var(--mat-sys-error, #b3261e); margin-bottom: 8px; }`,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class EnvEditorComponent {
  readonly backend = input.required<VariableBackend>();
  readonly rows = input.required<EnvRow[]>();
  readonly canEdit = input(false);
  readonly canReveal = input(false);
  readonly label = input('Variables');
  readonly saved = output<void>();
  readonly closed = output<void>();
  readonly mask = SECRET_MASK;
  readonly text = new FormControl('', { nonNullable: true });
  readonly revealed = signal<Record<string, string>>({});
  readonly lineErrors = signal<EnvLineError[]>([]);
  readonly problem = signal<Problem | null>(null);
  readonly message = signal('');
  readonly busy = signal(false);
  private readonly doc = inject(DOCUMENT);
  readonly hasHiddenSecrets = computed(() => this.rows().some((r) => r.secret && this.revealed()[r.key] === undefined));
  /** The file is only built once every secret went through the audited reveal. */
  readonly canDownload = computed(() => !this.hasHiddenSecrets());

  constructor() {
    // Fresh rows (after a save or a reload) are shown as they are now.
    effect(() => {
      this.rows();
      untracked(() => this.refill());
    });
  }

  /** The text for the current rows: plain values, revealed secrets, or the mask. */
  private refill(): void {
    const shown = this.revealed();
    this.text.setValue(formatEnv(this.rows().map((r) => ({ key: r.key, value: r.secret ? (shown[r.key] ?? SECRET_MASK) : (r.value ?? '') }))));
  }

  async revealAll(): Promise<void> {
    this.busy.set(true);
    this.problem.set(null);
    try {
      const out: Record<string, string> = { ...this.revealed() };
      // One audited reveal per secret: the audit log names each key that was shown.
      for (const r of this.rows().filter((x) => x.secret && out[x.key] === undefined)) out[r.key] = (await firstValueFrom(this.backend().reveal(r.key))).value;
      this.revealed.set(out);
      this.refill();
      this.message.set('All values are shown.');
    } catch (e) {
      this.problem.set(toProblem(e));
    } finally {
      this.busy.set(false);
    }
  }

  async apply(): Promise<void> {
    this.message.set('');
    this.problem.set(null);
    const parsed = parseEnv(this.text.value);
    this.lineErrors.set(parsed.errors);
    if (parsed.errors.length) return;
    const byKey = new Map(this.rows().map((r) => [r.key, r]));
    const shown = this.revealed();
    const items = parsed.entries
      .filter((e) => {
        const old = byKey.get(e.key);
        if (!old) return true;
        if (old.secret) return e.value !== SECRET_MASK && e.value !== shown[e.key];
        return e.value !== (old.value ?? '');
      })
      .map((e) => ({ key: e.key, value: e.value, secret: byKey.get(e.key)?.secret ?? false }));
    if (items.length === 0) {
      this.message.set('Nothing changed.');
      return;
    }
    this.busy.set(true);
    try {
      await firstValueFrom(this.backend().put(items));
      this.revealed.update((all) => Object.fromEntries(Object.entries(all).filter(([k]) => !items.some((i) => i.key === k))));
      this.message.set(`Saved ${items.length} variable${items.length === 1 ? '' : 's'}.`);
      this.saved.emit();
    } catch (e) {
      this.problem.set(toProblem(e));
    } finally {
      this.busy.set(false);
    }
  }

  download(): void {
    if (!this.canDownload()) return;
    const shown = this.revealed();
    const body = formatEnv(this.rows().map((r) => ({ key: r.key, value: r.secret ? shown[r.key] : (r.value ?? '') })));
    const url = URL.createObjectURL(new Blob([body], { type: 'text/plain' }));
    const a = this.doc.createElement('a');
    a.href = url;
    a.download = `${this.label().toLowerCase().replace(/[^a-z0-9]+/g, '-')}.env`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 0);
  }
}
