import { afterRenderEffect, ChangeDetectionStrategy, Component, computed, DestroyRef, ElementRef, inject, signal, viewChild } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { Subscription } from 'rxjs';
import { RuntimeLogLine } from '../../core/api/api-types';
import { ResourcesApi } from '../../core/api/resources-api.service';
import { EVENT_SOURCE, eventStream } from '../../core/live/event-stream';
import { ApplicationStore } from './application.store';

const MAX_LINES = 5000;

/**
 * Adds a line where its time belongs (lines of several tasks can arrive out of order; the times are ISO-8601 UTC with
 * milliseconds, so they compare as strings). Lines with the same time keep their arrival order.
 */
export function inTimeOrder(all: readonly RuntimeLogLine[], line: RuntimeLogLine): RuntimeLogLine[] {
  let i = all.length;
  while (i > 0 && all[i - 1].time > line.time) i--;
  return [...all.slice(0, i), line, ...all.slice(i)];
}

/** Live runtime logs of the Swarm service (stdout and stderr), with tail and since filters and a search box. */
@Component({
  selector: 'w-app-runtime-logs',
  imports: [FormsModule, MatButtonModule, MatFormFieldModule, MatInputModule],
  template: `
    <form class="w-row filters" (ngSubmit)="start()" aria-label="Log filters">
      <mat-form-field><mat-label>Tail (lines)</mat-label><input matInput type="number" name="tail" [(ngModel)]="tail" min="0" max="10000" /></mat-form-field>
      <mat-form-field><mat-label>Since</mat-label><input matInput type="datetime-local" name="since" [(ngModel)]="since" /></mat-form-field>
      <button mat-flat-button type="submit">{{ live() ? 'Restart' : 'Follow' }}</button>
      @if (live()) {
        <button mat-stroked-button type="button" (click)="stop()">Stop</button>
      }
      <span class="w-spacer"></span>
      <mat-form-field><mat-label>Search</mat-label><input matInput name="q" [ngModel]="query()" (ngModelChange)="query.set($event)" /></mat-form-field>
    </form>
    @if (error()) {
      <p class="w-muted" role="alert">{{ error() }}</p>
    }
    <p class="w-muted" aria-live="polite">{{ live() ? 'Following' : 'Not following' }} · {{ shown().length }} of {{ lines().length }} lines</p>
    <div class="log-box">
    <pre #log class="log" tabindex="0" data-testid="runtime-log" role="log" aria-label="Runtime log" (scroll)="onLogScroll()">@for (l of shown(); track $index) {<span [class.err]="l.stream === 'stderr'">{{ l.time.slice(11, 19) }} {{ l.line }}</span>
}</pre>
    @if (!atEnd()) {
      <button mat-flat-button type="button" class="jump" (click)="jumpToLatest()">Jump to latest</button>
    }
    </div>
  `,
  styles: `
    .filters mat-form-field { width: 180px; }
    .log { max-height: 520px; overflow: auto; background: var(--mat-sys-surface-container-highest); color: var(--mat-sys-on-surface); padding: 12px; border-radius: 8px; font-size: 13px; white-space: pre-wrap; }
    .log .err { color: var(--mat-sys-error); }
    .log-box { position: relative; }
    .jump { position: absolute; right: 16px; bottom: 16px; }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class RuntimeLogsTab {
  private readonly store = inject(ApplicationStore);
  private readonly api = inject(ResourcesApi);
  private readonly es = inject(EVENT_SOURCE);
  tail = 200;
  since = '';
  readonly query = signal('');
  readonly lines = signal<RuntimeLogLine[]>([]);
  readonly live = signal(false);
  readonly error = signal<string | null>(null);
  readonly shown = computed(() => {
    const q = this.query().toLowerCase();
    return q ? this.lines().filter((l) => l.line.toLowerCase().includes(q)) : this.lines();
  });
  private sub: Subscription | null = null;
  private readonly logEl = viewChild<ElementRef<HTMLElement>>('log');
  /**
   * Like the deployment log: the view keeps its newest line in sight while the user is at the bottom; scrolling up
   * stops that (and offers "Jump to latest") until they return to the end.
   */
  readonly atEnd = signal(true);

  constructor() {
    inject(DestroyRef).onDestroy(() => this.stop());
    queueMicrotask(() => this.start());
    afterRenderEffect({
      write: () => {
        this.shown();
        const el = this.logEl()?.nativeElement;
        if (el && this.atEnd()) el.scrollTop = el.scrollHeight;
      },
    });
  }

  onLogScroll(): void {
    const el = this.logEl()?.nativeElement;
    if (el) this.atEnd.set(el.scrollHeight - el.scrollTop - el.clientHeight < 24);
  }

  jumpToLatest(): void {
    const el = this.logEl()?.nativeElement;
    if (el) el.scrollTop = el.scrollHeight;
    this.atEnd.set(true);
  }

  start(): void {
    const app = this.store.app();
    if (!app) return;
    this.stop();
    this.lines.set([]);
    this.error.set(null);
    this.atEnd.set(true);
    const url = this.api.runtimeLogsUrl(app.id, this.tail ?? 200, this.since ? new Date(this.since).toISOString() : undefined);
    this.live.set(true);
    this.sub = eventStream<RuntimeLogLine>(this.es, url, ['stdout', 'stderr']).subscribe({
      next: (ev) => {
        if (ev.event === 'stdout' || ev.event === 'stderr') this.lines.update((all) => inTimeOrder(all, ev.data).slice(-MAX_LINES));
      },
      error: (e: Error) => {
        this.error.set(`${e.message} (is the application deployed?)`);
        this.live.set(false);
      },
      complete: () => this.live.set(false),
    });
  }

  stop(): void {
    this.sub?.unsubscribe();
    this.sub = null;
    this.live.set(false);
  }
}
