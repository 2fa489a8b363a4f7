import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { MatTabsModule } from '@angular/material/tabs';
import { RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { OrgContext } from '../../core/org/org-context.service';

@Component({
  selector: 'w-organization-settings',
  imports: [RouterOutlet, RouterLink, RouterLinkActive, MatTabsModule],
  template: `
    <div class="w-page">
      <h1>{{ org()?.name ?? 'Organization' }}</h1>
      <nav mat-tab-nav-bar class="w-wrap-tabs" [tabPanel]="panel" [disablePagination]="true" aria-label="Organization settings">
        @for (t of tabs; track t.path) {
          <a mat-tab-link [routerLink]="t.path" routerLinkActive #rla="routerLinkActive" [active]="rla.isActive">{{ t.label }}</a>
        }
      </nav>
      <mat-tab-nav-panel #panel>
        <router-outlet />
      </mat-tab-nav-panel>
    </div>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class OrganizationSettingsLayout {
  readonly org = inject(OrgContext).current;
  readonly tabs = [
    { path: 'members', label: 'Members' },
    { path: 'invitations', label: 'Invitations' },
    { path: 'roles', label: 'Roles' },
    { path: 'api-keys', label: 'API keys' },
    { path: 'registries', label: 'Registries' },
    { path: 'git-providers', label: 'Git providers' },
    { path: 'certificates', label: 'Certificates' },
    { path: 'general', label: 'General' },
    { path: 'security', label: 'Security' },
    { path: 'audit', label: 'Audit log' },
    { path: 'sso', label: 'Single sign-on' },
  ];
}
