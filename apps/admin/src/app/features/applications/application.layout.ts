import { ChangeDetectionStrategy, Component, computed, effect, inject, input, untracked } from '@angular/core';
import { MatTabsModule } from '@angular/material/tabs';
import { RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { OrgContext } from '../../core/org/org-context.service';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';
import { StatusChipComponent } from '../../shared/ui/status-chip.component';
import { ConfigDriftBannerComponent } from '../deploy-state/config-drift-banner.component';
import { ApplicationStore } from './application.store';
import { ApplicationActionsComponent } from './application-actions.component';
import { applicationState } from './application-actions';
import { DomainsStore } from './domains.store';

/**
 * The application screen: header with live state, and one tab per route (overview, deployments, logs, …). Provides
 * the stores its header and tabs share: the application (ApplicationStore) and its domains (DomainsStore).
 */
@Component({
  selector: 'w-application-layout',
  imports: [RouterOutlet, RouterLink, RouterLinkActive, MatTabsModule, ProblemAlertComponent, StatusChipComponent, ConfigDriftBannerComponent, ApplicationActionsComponent],
  providers: [ApplicationStore, DomainsStore],
  template: `
    <div class="w-page">
      <w-problem [problem]="store.problem()" />
      @if (store.deleted()) {
        <div class="w-card deleted" role="alert">
          <h1>This application was deleted</h1>
          @if (store.app(); as a) {
            <p><strong>{{ a.name }}</strong> no longer exists. <a [routerLink]="['/orgs', orgId(), 'projects', a.projectId, 'environments', a.environmentId]">Back to the environment</a></p>
          } @else {
            <p><a [routerLink]="['/orgs', orgId(), 'dashboard']">Back to the dashboard</a></p>
          }
        </div>
      } @else if (store.app(); as a) {
        <p><a [routerLink]="['/orgs', orgId(), 'projects', a.projectId, 'environments', a.environmentId]">Back to the environment</a></p>
        <div class="w-row"><h1>{{ a.name }}</h1> @if (state(); as st) { <w-status data-testid="application-state" [state]="st" /> }</div>
        <w-application-actions />
        <nav mat-tab-nav-bar class="w-wrap-tabs" [tabPanel]="panel" [disablePagination]="true" aria-label="Application">
          @for (t of tabs; track t.path) {
            <a mat-tab-link [routerLink]="t.path" routerLinkActive #rla="routerLinkActive" [active]="rla.isActive">{{ t.label }}</a>
          }
        </nav>
        <w-config-drift-banner />
        <mat-tab-nav-panel #panel><router-outlet /></mat-tab-nav-panel>
      }
    </div>
  `,
  styles: `h1 { margin: 0; }`,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ApplicationLayout {
  readonly store = inject(ApplicationStore);
  readonly orgId = inject(OrgContext).currentId;
  readonly applicationId = input.required<string>();
  /** "not deployed" before the first deployment (not the engine's "missing"/"unknown"). */
  readonly state = computed(() => applicationState(this.store.status()));
  readonly tabs = [
    { path: 'overview', label: 'Overview' },
    { path: 'deployments', label: 'Deployments' },
    { path: 'logs', label: 'Runtime logs' },
    { path: 'domains', label: 'Domains' },
    { path: 'source', label: 'Source' },
    { path: 'previews', label: 'Previews' },
    { path: 'variables', label: 'Variables' },
    { path: 'settings', label: 'Settings' },
    { path: 'danger', label: 'Danger zone' },
  ];

  constructor() {
    effect(() => {
      const id = this.applicationId();
      untracked(() => void this.store.open(id));
    });
  }
}
