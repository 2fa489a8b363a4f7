import { DatePipe } from '@angular/common';
import { afterRenderEffect, ChangeDetectionStrategy, Component, computed, DestroyRef, effect, ElementRef, inject, signal, untracked, viewChild } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatProgressBarModule } from '@angular/material/progress-bar';
import { MatSnackBar } from '@angular/material/snack-bar';
import { ActivatedRoute } from '@angular/router';
import { firstValueFrom, Subscription } from 'rxjs';
import { Deployment, DeploymentLogLine, DeploymentStatus, FINISHED } from '../../core/api/api-types';
import { Problem, toProblem } from '../../core/api/problem';
import { ResourcesApi } from '../../core/api/resources-api.service';
import { EVENT_SOURCE, eventStream } from '../../core/live/event-stream';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';
import { StatusChipComponent } from '../../shared/ui/status-chip.component';
import { ApplicationStore } from './application.store';
import { canRollBackTo, liveDeploymentId, rollbackQuestion } from './application-actions';
import { DeploymentProgress } from './deployment-progress';
import { deploymentCommit } from './source-form';

/**
 * Deployment history (status, who, when, duration) and the selected deployment's steps with a progress bar and its
 * live log (EventSource on /deployments/{id}/logs?follow=true); cancel and roll back; a toast when one finishes.
 */
@Component({
  selector: 'w-app-deployments',
  imports: [DatePipe, MatButtonModule, MatProgressBarModule, ProblemAlertComponent, StatusChipComponent],
  template: `
    <w-problem [problem]="problem()" />
    @if (progress(); as pr) {
      <section class="w-card live" aria-label="Deployment progress">
        <div class="w-row">
          <h2>Deployment {{ selectedId()!.slice(-8) }}</h2>
          <w-status kind="deployment" [state]="pr.status()" />
          @if (selectedCommit(); as c) {
            <span class="commit" data-testid="deployment-commit">{{ c.ref }} @ @if (c.sha) { <code [attr.title]="c.fullSha">{{ c.sha }}</code> @if (c.subject) { {{ c.subject }} } @if (c.author) { <span class="w-muted">by {{ c.author }}</span> } } @else { <span class="w-muted">commit not resolved yet</span> }</span>
          }
          <span class="w-spacer"></span>
          @if (store.canDeploy() && !pr.finished()) {
            <button mat-stroked-button type="button" (click)="cancel(selectedId()!)">Cancel deployment</button>
          }
        </div>
        <mat-progress-bar [mode]="pr.finished() ? 'determinate' : 'buffer'" [value]="pr.percent()" aria-label="Deployment progress" />
        <ol class="steps" aria-label="Steps">
          @for (s of pr.steps(); track s.name) {
            <li [class]="s.state" [attr.aria-label]="s.name + ': ' + s.state">{{ s.name }} <span class="w-muted">{{ s.state }}</span></li>
          }
        </ol>
        <pre #log class="log" tabindex="0" data-testid="deployment-log" role="log" aria-live="polite" aria-label="Deployment log" (scroll)="onLogScroll()">@for (l of pr.lines(); track l.seq) {<span [class]="l.level" [attr.data-level]="l.level">[{{ l.step }}] {{ l.message }}</span>
}</pre>
      </section>
    }
    <h2>History</h2>
    @if (list() === null) {
      <p class="w-muted">Loading…</p>
    } @else if (list()!.length === 0) {
      <p class="w-muted">No deployments yet.</p>
    } @else {
      <table class="w-table" aria-label="Deployments">
        <thead><tr><th scope="col">Status</th><th scope="col">Kind</th><th scope="col">By</th><th scope="col">When</th><th scope="col">Duration</th><th scope="col">Image</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>
          @for (d of list(); track d.id) {
            <tr [class.selected]="d.id === selectedId()">
              <td><w-status kind="deployment" [state]="d.id === selectedId() ? (progress()?.status() ?? d.status) : d.status" /></td>
              <td>{{ d.kind }}</td>
              <td>{{ d.requestedBy.name }}</td>
              <td>{{ d.queuedAt | date: 'medium' }}</td>
              <td>{{ d.durationMs === null ? '—' : (d.durationMs / 1000).toFixed(1) + ' s' }}</td>
              <td>
                <code>{{ d.image }}</code>
                @if (commitOf(d); as c) {
                  <div class="commit" [attr.aria-label]="'Commit ' + (c.sha || 'not resolved')">@if (c.sha) { <code [attr.title]="c.fullSha">{{ c.sha }}</code> {{ c.subject }} @if (c.author) { <span class="w-muted">by {{ c.author }}</span> } } @else { <span class="w-muted">{{ c.ref }}, commit not resolved</span> }</div>
                }
              </td>
              <td class="row-actions">
                <button mat-button type="button" (click)="select(d.id)" [attr.aria-label]="'Show log of ' + d.id">Log</button>
                @if (d.id === liveId()) {
                  <span class="w-muted live-mark" [attr.aria-label]="'Deployment ' + d.id + ' is live'">Live</span>
                } @else if (store.canDeploy() && canRollBackTo(d, liveId())) {
                  <button mat-button type="button" (click)="rollback(d)" [disabled]="busy()" [attr.aria-label]="'Roll back to ' + d.id">Roll back</button>
                }
              </td>
            </tr>
          }
        </tbody>
      </table>
    }
  `,
  styles: `
    .live h2 { margin: 0; }
    .steps { display: flex; gap: 16px; list-style: none; padding: 0; flex-wrap: wrap; }
    .steps .done { color: var(--mat-sys-primary); } .steps .failed, .steps .cancelled { color: var(--mat-sys-error); } .steps .active { font-weight: 600; }
    .log { max-height: 360px; overflow: auto; background: var(--mat-sys-surface-container-highest); color: var(--mat-sys-on-surface); padding: 12px; border-radius: 8px; font-size: 13px; white-space: pre-wrap; }
    .log .warn { color: var(--mat-sys-tertiary); font-weight: 600; } .log .error { color: var(--mat-sys-error); font-weight: 600; }
    .live-mark { padding: 0 12px; }
    tr.selected { background: var(--mat-sys-surface-container); }
    .row-actions { white-space: nowrap; }
    .commit { display: block; margin-top: 2px; font-size: 13px; overflow-wrap: anywhere; max-width: 36em; }
    .live .commit { display: inline; margin: 0; }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class DeploymentsTab {
  readonly store = inject(ApplicationStore);
  private readonly api = inject(ResourcesApi);
  private readonly es = inject(EVENT_SOURCE);
  private readonly snack = inject(MatSnackBar);
  readonly list = signal<Deployment[] | null>(null);
  readonly selectedId = signal<string | null>(null);
  readonly progress = signal<DeploymentProgress | null>(null);
  readonly problem = signal<Problem | null>(null);
  readonly busy = signal(false);
  /** The deployment the service runs now: no Roll back on it (it would change nothing). */
  readonly liveId = computed(() => liveDeploymentId(this.store.status(), this.list()));
  readonly canRollBackTo = canRollBackTo;
  /** The Git commit a deployment built (short sha, the message's first line, author); null for image deployments. */
  readonly commitOf = deploymentCommit;
  readonly selectedCommit = computed(() => {
    const d = this.list()?.find((x) => x.id === this.selectedId());
    return d ? deploymentCommit(d) : null;
  });
  /** `?deployment=<id>` (a link from a webhook delivery): that deployment is shown on opening instead of the newest. */
  private readonly wanted = inject(ActivatedRoute).snapshot.queryParamMap.get('deployment');
  private readonly appId = computed(() => this.store.app()?.id ?? null);
  private follow: Subscription | null = null;
  private readonly logEl = viewChild<ElementRef<HTMLElement>>('log');
  /** The live log keeps its end in view while the user is at the bottom; scrolling up stops that until they return. */
  private followEnd = true;

  constructor() {
    inject(DestroyRef).onDestroy(() => this.follow?.unsubscribe());
    effect(() => {
      const id = this.appId();
      if (id) untracked(() => void this.load(true));
    });
    // Live events about this application's deployments (through the store) reload the history.
    effect(() => {
      if (this.store.deploymentsChanged()) untracked(() => void this.load());
    });
    afterRenderEffect({
      write: () => {
        this.progress()?.lines();
        const el = this.logEl()?.nativeElement;
        if (el && this.followEnd) el.scrollTop = el.scrollHeight;
      },
    });
  }

  onLogScroll(): void {
    const el = this.logEl()?.nativeElement;
    if (el) this.followEnd = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
  }

  /** The selected deployment's status as the stream reports it, also in its history row. */
  private setStatus(id: string, pr: DeploymentProgress, status: DeploymentStatus): void {
    pr.setStatus(status);
    this.list.update((all) => all?.map((d) => (d.id === id && d.status !== status ? { ...d, status } : d)) ?? all);
  }

  async load(selectLatest = false): Promise<void> {
    const a = this.store.app();
    if (!a) return;
    try {
      const page = await firstValueFrom(this.api.deployments(a.id));
      this.list.set(page.items);
      const newest = page.items[0];
      // The latest on opening; later, a deployment started meanwhile (from the header) so its progress shows.
      const started = newest && !FINISHED.includes(newest.status) && newest.id !== this.selectedId();
      if (selectLatest && !this.selectedId() && this.wanted) this.select(this.wanted, page.items.find((d) => d.id === this.wanted)?.status);
      else if (newest && ((selectLatest && !this.selectedId()) || started)) this.select(newest.id, newest.status);
    } catch (e) {
      this.problem.set(toProblem(e));
    }
  }

  /** Shows one deployment: its stored log, then (until it ends) the live stream. */
  select(id: string, status?: DeploymentStatus): void {
    this.follow?.unsubscribe();
    this.followEnd = true;
    this.selectedId.set(id);
    const pr = new DeploymentProgress();
    pr.setStatus(status ?? this.list()?.find((d) => d.id === id)?.status ?? 'queued');
    this.progress.set(pr);
    const wasFinished = FINISHED.includes(pr.status());
    this.follow = eventStream<DeploymentLogLine & { status?: DeploymentStatus }>(this.es, this.api.deploymentLogStreamUrl(id), ['log']).subscribe({
      next: (ev) => {
        if (ev.event === 'log') {
          pr.add([ev.data]);
          if (pr.status() === 'queued') this.setStatus(id, pr, 'running');
        } else if (ev.event === 'end' && ev.data.status) {
          this.setStatus(id, pr, ev.data.status);
          if (!wasFinished) this.finished(ev.data.status);
        }
      },
      error: () => void this.fallback(id, pr),
    });
  }

  /** Without a stream (a proxy that buffers, a dropped connection): the stored log and status. */
  private async fallback(id: string, pr: DeploymentProgress): Promise<void> {
    try {
      const log = await firstValueFrom(this.api.deploymentLog(id));
      pr.add(log.lines);
      this.setStatus(id, pr, log.status);
    } catch (e) {
      this.problem.set(toProblem(e));
    }
  }

  private finished(status: DeploymentStatus): void {
    const msg = status === 'succeeded' ? 'Deployment succeeded' : status === 'failed' ? 'Deployment failed' : `Deployment ${status}`;
    this.snack.open(msg, 'Dismiss', { duration: 6000, politeness: 'polite' });
    void this.load();
    void this.store.reload();
  }

  /** Asks first, naming the deployment that comes back (when, who, image and digest). */
  async rollback(d: Deployment): Promise<void> {
    if (!confirm(rollbackQuestion(d, new Date(d.finishedAt ?? d.queuedAt).toLocaleString()))) return;
    await this.start(() => this.api.rollback(d.id));
  }

  async cancel(id: string): Promise<void> {
    try {
      await firstValueFrom(this.api.cancel(id));
      this.snack.open('Cancellation requested', undefined, { duration: 3000 });
    } catch (e) {
      this.problem.set(toProblem(e));
    }
  }

  private async start(call: () => ReturnType<ResourcesApi['deploy']>): Promise<void> {
    this.busy.set(true);
    this.problem.set(null);
    try {
      const d = await firstValueFrom(call());
      await this.load();
      this.select(d.id, d.status);
      void this.store.reload();
    } catch (e) {
      this.problem.set(toProblem(e));
    } finally {
      this.busy.set(false);
    }
  }
}
