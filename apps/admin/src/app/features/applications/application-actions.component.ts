import { ChangeDetectionStrategy, Component, computed, DestroyRef, effect, inject, signal, untracked } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatSnackBar } from '@angular/material/snack-bar';
import { MatTooltipModule } from '@angular/material/tooltip';
import { firstValueFrom } from 'rxjs';
import { Deployment } from '../../core/api/api-types';
import { Problem, toProblem } from '../../core/api/problem';
import { ResourcesApi } from '../../core/api/resources-api.service';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';
import { ACTION_DESCRIPTIONS, ACTION_LABELS, activeDeployment, applicationActions, HEADER_ACTIONS, HeaderAction, openUrl } from './application-actions';
import { ApplicationStore } from './application.store';
import { domainOpenLinks } from './domain-form';
import { DomainsStore } from './domains.store';

const CONFIRM: Partial<Record<HeaderAction, (name: string) => string>> = {
  stop: (n) => `Stop ${n}? Its containers are removed (replicas 0); the configuration and volumes are kept.`,
  restart: (n) => `Restart ${n}? Its containers are replaced by new ones.`,
};

/**
 * The application header's actions: Deploy, Redeploy, Restart, Stop / Start (each offered only when it applies and
 * disabled with the reason while a deployment is queued or running), and an "Open" link per published port and per
 * domain of the application.
 */
@Component({
  selector: 'w-application-actions',
  imports: [MatButtonModule, MatTooltipModule, ProblemAlertComponent],
  template: `
    <div class="w-row actions" role="group" aria-label="Application actions">
      @for (a of shown(); track a.action) {
        <button
          mat-stroked-button
          type="button"
          [class.primary]="a.action === 'deploy' || a.action === 'start'"
          [disabled]="a.disabled || busy()"
          [matTooltip]="a.reason ?? a.description"
          [attr.aria-description]="a.reason ?? a.description"
          [attr.data-action]="a.action"
          (click)="run(a.action)"
        >{{ a.label }}</button>
      }
      @if (reason(); as r) {
        <span class="w-muted reason" data-testid="actions-reason">{{ r }}</span>
      }
      @for (p of openPorts(); track p.port) {
        <a mat-button [href]="p.href" target="_blank" rel="noopener" [attr.aria-label]="'Open port ' + p.port + ' in a new tab'">Open port {{ p.port }}</a>
      }
      @for (d of openDomains(); track d.href) {
        <a mat-button [href]="d.href" target="_blank" rel="noopener" [attr.aria-label]="'Open ' + d.label + ' in a new tab'">Open {{ d.label }}</a>
      }
    </div>
    <w-problem [problem]="problem()" />
  `,
  styles: `
    .actions { align-items: center; gap: 8px; flex-wrap: wrap; margin: 8px 0; }
    .primary:not([disabled]) { background: var(--mat-sys-primary); color: var(--mat-sys-on-primary); }
    .reason { font: var(--mat-sys-body-small); }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ApplicationActionsComponent {
  readonly store = inject(ApplicationStore);
  /** Optional: the layout provides it; the header shown without it (a test) just has no domain links. */
  private readonly domains = inject(DomainsStore, { optional: true });
  private readonly api = inject(ResourcesApi);
  private readonly snack = inject(MatSnackBar);
  readonly problem = signal<Problem | null>(null);
  readonly busy = signal(false);
  /** The newest deployments (to know whether one is queued or running); refreshed with every status update. */
  readonly deployments = signal<Deployment[] | null>(null);

  readonly availability = computed(() => {
    const a = this.store.app();
    const status = this.store.status();
    const active = activeDeployment(this.deployments());
    return applicationActions({
      canDeploy: this.store.canDeploy(),
      deployed: !!status?.configuration,
      desiredState: status?.desiredState ?? a?.desiredState ?? 'running',
      // The history says whether one is queued or running; until it is loaded, the runtime's "deploying".
      inProgress: this.deployments() ? (active?.status ?? null) : status?.state === 'deploying' ? 'running' : null,
    });
  });
  readonly shown = computed(() => {
    const av = this.availability();
    return HEADER_ACTIONS.filter((k) => av[k].shown).map((k) => ({ action: k, label: ACTION_LABELS[k], description: ACTION_DESCRIPTIONS[k], ...av[k] }));
  });
  readonly reason = computed(() => this.shown().find((a) => a.reason)?.reason ?? null);
  readonly openPorts = computed(() => {
    const ports = new Set<number>();
    for (const p of this.store.app()?.spec.ports ?? []) if (p.published && p.protocol !== 'udp') ports.add(p.published);
    // Engine-assigned ports are known from the tasks.
    for (const t of this.store.status()?.tasks ?? []) for (const p of t.ports ?? []) if (p.published && p.protocol !== 'udp') ports.add(p.published);
    return [...ports].sort((x, y) => x - y).map((port) => ({ port, href: openUrl(location.hostname, port) }));
  });

  readonly openDomains = computed(() => domainOpenLinks(this.domains?.domains() ?? null));

  constructor() {
    effect(() => {
      const a = this.store.app();
      this.store.status();
      if (a) untracked(() => void this.loadDeployments(a.id));
    });
    // While one is queued or running, look again every few seconds: its end re-enables the actions.
    const timer = setInterval(() => {
      const a = this.store.app();
      if (a && activeDeployment(this.deployments())) void this.loadDeployments(a.id);
    }, 2000);
    inject(DestroyRef).onDestroy(() => clearInterval(timer));
  }

  private async loadDeployments(id: string): Promise<void> {
    try {
      const wasActive = !!activeDeployment(this.deployments());
      this.deployments.set((await firstValueFrom(this.api.deployments(id))).items);
      // It ended: the status (desired state, live deployment) changed with it.
      if (wasActive && !activeDeployment(this.deployments())) await this.store.refreshStatus();
    } catch {
      // The history is only used to know whether one is in progress; the status's "deploying" still says so.
    }
  }

  async run(action: HeaderAction): Promise<void> {
    const a = this.store.app();
    if (!a) return;
    const question = CONFIRM[action]?.(a.name);
    if (question && !confirm(question)) return;
    this.busy.set(true);
    this.problem.set(null);
    try {
      const call = action === 'deploy' || action === 'redeploy' ? this.api.deploy(a.id, action) : this.api.lifecycle(a.id, action);
      const d = await firstValueFrom(call);
      this.deployments.update((all) => [d, ...(all ?? []).filter((x) => x.id !== d.id)]);
      this.snack.open(`${ACTION_LABELS[action]} requested`, 'Dismiss', { duration: 4000 });
      await this.store.reload();
    } catch (e) {
      this.problem.set(toProblem(e));
    } finally {
      this.busy.set(false);
    }
  }
}
