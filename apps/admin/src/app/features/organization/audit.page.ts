import { DatePipe, JsonPipe } from '@angular/common';
import { afterRenderEffect, ChangeDetectionStrategy, Component, computed, effect, ElementRef, inject, signal, untracked, viewChild } from '@angular/core';
import { NonNullableFormBuilder, ReactiveFormsModule } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatSelectModule } from '@angular/material/select';
import { firstValueFrom } from 'rxjs';
import { AuditEvent, AuditVerify } from '../../core/api/api-types';
import { Problem, toProblem } from '../../core/api/problem';
import { AuditFilter, ResourcesApi } from '../../core/api/resources-api.service';
import { AbilitiesService } from '../../core/auth/abilities.service';
import { OrgContext } from '../../core/org/org-context.service';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';

/** The audit log: filters, cursor paging, a detail drawer with the (redacted) changes, exports and chain verification. */
@Component({
  selector: 'w-audit-page',
  imports: [DatePipe, JsonPipe, ReactiveFormsModule, MatButtonModule, MatFormFieldModule, MatInputModule, MatSelectModule, ProblemAlertComponent],
  template: `
    <div class="w-row">
      <h2>Audit log</h2>
      <span class="w-spacer"></span>
      @if (verify(); as v) {
        <span role="status" data-testid="chain-status" [class.bad]="!v.ok">{{ v.ok ? 'Chain verified: ' + v.checked + ' entries intact' : 'Chain broken at entry ' + v.firstBrokenSeq + ': ' + v.reason }}</span>
      }
      @if (canExport()) {
        <a mat-stroked-button [href]="exportUrl('csv')" download>Export CSV</a>
        <a mat-stroked-button [href]="exportUrl('ndjson')" download>Export NDJSON</a>
      }
    </div>
    <form class="w-row filters" [formGroup]="filters" (ngSubmit)="search()" aria-label="Audit filters">
      <mat-form-field><mat-label>Actor</mat-label><input matInput formControlName="actor" /></mat-form-field>
      <mat-form-field><mat-label>Action</mat-label><input matInput formControlName="action" placeholder="deployment.*" /></mat-form-field>
      <mat-form-field><mat-label>Subject type</mat-label><input matInput formControlName="subjectType" /></mat-form-field>
      <mat-form-field>
        <mat-label>Outcome</mat-label>
        <mat-select formControlName="outcome"><mat-option value="">any</mat-option><mat-option value="succeeded">succeeded</mat-option><mat-option value="denied">denied</mat-option><mat-option value="failed">failed</mat-option></mat-select>
      </mat-form-field>
      <mat-form-field><mat-label>From</mat-label><input matInput type="datetime-local" formControlName="from" /></mat-form-field>
      <mat-form-field><mat-label>To</mat-label><input matInput type="datetime-local" formControlName="to" /></mat-form-field>
      <button mat-flat-button type="submit">Filter</button>
    </form>
    <w-problem [problem]="problem()" />
    <table class="w-table" aria-label="Audit events">
      <thead><tr><th scope="col">When</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Subject</th><th scope="col">Outcome</th><th scope="col"><span class="visually-hidden">Details</span></th></tr></thead>
      <tbody>
        @for (e of events(); track e.id) {
          <tr>
            <td>{{ e.occurredAt | date: 'medium' }}</td>
            <td>{{ e.actor.name }}</td>
            <td><code>{{ e.action }}</code></td>
            <td>{{ e.subject.type }} {{ e.subject.name ?? e.subject.id ?? '' }}</td>
            <td>{{ e.outcome }}</td>
            <td><button mat-button type="button" (click)="show(e, $event)" [attr.aria-label]="'Details of ' + e.action + ' #' + e.seq">Details</button></td>
          </tr>
        } @empty {
          <tr><td colspan="6" class="w-muted">No entries.</td></tr>
        }
      </tbody>
    </table>
    @if (next()) {
      <button mat-button type="button" (click)="more()">Load more</button>
    }
    @if (open(); as e) {
      <aside #drawer class="drawer" role="dialog" aria-modal="false" aria-labelledby="drawer-title" tabindex="-1">
        <div class="w-row"><h3 id="drawer-title">{{ e.action }}</h3><span class="w-spacer"></span><button mat-button type="button" (click)="close()">Close</button></div>
        <dl>
          <dt>When</dt><dd>{{ e.occurredAt | date: 'medium' }}</dd>
          <dt>Actor</dt><dd>{{ e.actor.name }} ({{ e.actor.type }})</dd>
          <dt>Subject</dt><dd>{{ e.subject.type }} {{ e.subject.name }} <code>{{ e.subject.id }}</code></dd>
          <dt>Outcome</dt><dd>{{ e.outcome }}</dd>
          <dt>Request</dt><dd>{{ e.ip ?? '—' }} · {{ e.requestId ?? '—' }}</dd>
          <dt>Hash</dt><dd><code class="hash">{{ e.hash }}</code></dd>
        </dl>
        <h4>Changes</h4>
        <pre data-testid="audit-changes">{{ e.changes | json }}</pre>
      </aside>
    }
  `,
  styles: `
    .filters mat-form-field { width: 170px; }
    .bad { color: var(--mat-sys-error); }
    .drawer { position: fixed; top: 64px; right: 0; bottom: 0; width: min(440px, 100vw); overflow: auto; padding: 16px 20px; box-sizing: border-box;
      background: var(--mat-sys-surface-container); color: var(--mat-sys-on-surface); border-left: 1px solid var(--mat-sys-outline-variant); z-index: 10; }
    .drawer dt { color: var(--mat-sys-on-surface-variant); } .drawer dd { margin: 0 0 6px; } .hash { word-break: break-all; }
    .drawer pre { white-space: pre-wrap; background: var(--mat-sys-surface-container-highest); padding: 8px; border-radius: 6px; }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
  host: { '(document:keydown.escape)': 'close()' },
})
export class AuditPage {
  private readonly api = inject(ResourcesApi);
  private readonly abilities = inject(AbilitiesService);
  readonly orgId = inject(OrgContext).currentId;
  readonly canExport = computed(() => this.abilities.can('export', 'audit-event', this.orgId()));
  readonly events = signal<AuditEvent[]>([]);
  readonly next = signal<string | null>(null);
  readonly verify = signal<AuditVerify | null>(null);
  readonly open = signal<AuditEvent | null>(null);
  readonly problem = signal<Problem | null>(null);
  private readonly applied = signal<AuditFilter>({});
  readonly filters = inject(NonNullableFormBuilder).group({ actor: [''], action: [''], subjectType: [''], outcome: [''], from: [''], to: [''] });
  private readonly drawer = viewChild<ElementRef<HTMLElement>>('drawer');
  /** The Details button that opened the drawer: focus returns there when it closes. */
  private opener: HTMLElement | null = null;

  constructor() {
    effect(() => {
      if (this.orgId()) untracked(() => void this.reload());
    });
    // An opened drawer takes the focus (keyboard and screen-reader users land in it).
    afterRenderEffect({
      write: () => {
        if (this.open()) untracked(() => this.drawer()?.nativeElement.focus());
      },
    });
  }

  show(e: AuditEvent, ev: Event): void {
    this.opener = ev.currentTarget instanceof HTMLElement ? ev.currentTarget : null;
    this.open.set(e);
  }

  /** Closes the drawer (Close button or Escape) and gives the focus back to the row it was opened from. */
  close(): void {
    if (!this.open()) return;
    this.open.set(null);
    const back = this.opener;
    this.opener = null;
    if (back?.isConnected) back.focus();
  }

  exportUrl(format: 'csv' | 'ndjson'): string {
    return this.api.auditExportUrl(this.orgId()!, format, this.applied());
  }

  search(): Promise<void> {
    const v = this.filters.getRawValue();
    const iso = (s: string) => (s ? new Date(s).toISOString() : '');
    this.applied.set({ actor: v.actor.trim(), action: v.action.trim(), subjectType: v.subjectType.trim(), outcome: v.outcome, from: iso(v.from), to: iso(v.to) });
    return this.reload();
  }

  async reload(): Promise<void> {
    this.problem.set(null);
    try {
      const [page, verify] = await Promise.all([firstValueFrom(this.api.audit(this.orgId()!, this.applied())), firstValueFrom(this.api.auditVerify(this.orgId()!))]);
      this.events.set(page.items);
      this.next.set(page.nextCursor);
      this.verify.set(verify);
    } catch (e) {
      this.problem.set(toProblem(e));
    }
  }

  async more(): Promise<void> {
    try {
      const page = await firstValueFrom(this.api.audit(this.orgId()!, { ...this.applied(), cursor: this.next()! }));
      this.events.update((x) => [...x, ...page.items]);
      this.next.set(page.nextCursor);
    } catch (e) {
      this.problem.set(toProblem(e));
    }
  }
}
