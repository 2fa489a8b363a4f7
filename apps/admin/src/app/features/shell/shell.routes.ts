import { ChangeDetectionStrategy, Component } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { RouterLink, Routes } from '@angular/router';
import { defaultOrganizationGuard, organizationGuard } from './shell.guards';
import { ShellComponent } from './shell.component';

@Component({
  selector: 'w-no-organization',
  imports: [RouterLink, MatButtonModule],
  template: `
    <div class="w-page">
      <h1>No organization yet</h1>
      <p>You are not a member of any organization. Ask an administrator for an invitation, or create your own.</p>
      <a mat-flat-button routerLink="/organizations/new">Create an organization</a>
    </div>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class NoOrganizationPage {}

/**
 * The signed-in portal. Organization-scoped screens live under /orgs/:orgId; later features add their lazy routes
 * next to `dashboard` and `settings` (projects, environments, applications, …).
 */
export const SHELL_ROUTES: Routes = [
  {
    path: '',
    component: ShellComponent,
    children: [
      { path: '', pathMatch: 'full', canActivate: [defaultOrganizationGuard], component: NoOrganizationPage, title: 'Wharf' },
      { path: 'organizations/new', title: 'New organization · Wharf', loadComponent: () => import('../organization/new-organization.page').then((m) => m.NewOrganizationPage) },
      { path: 'profile', title: 'Profile · Wharf', loadComponent: () => import('../profile/profile.page').then((m) => m.ProfilePage) },
      {
        path: 'orgs/:orgId',
        canActivate: [organizationGuard],
        children: [
          { path: '', pathMatch: 'full', redirectTo: 'dashboard' },
          { path: 'dashboard', title: 'Dashboard · Wharf', loadComponent: () => import('../dashboard/dashboard.page').then((m) => m.DashboardPage) },
          { path: 'settings', loadChildren: () => import('../organization/organization.routes').then((m) => m.ORGANIZATION_ROUTES) },
          { path: 'projects/:projectId', title: 'Project · Wharf', loadComponent: () => import('../projects/project.page').then((m) => m.ProjectPage) },
          { path: 'projects/:projectId/environments/:environmentId', title: 'Environment · Wharf', loadComponent: () => import('../projects/environment.page').then((m) => m.EnvironmentPage) },
          { path: 'projects/:projectId/environments/:environmentId/new-application', title: 'New application · Wharf', loadComponent: () => import('../applications/create-application.page').then((m) => m.CreateApplicationPage) },
          { path: 'applications/:applicationId', loadChildren: () => import('../applications/application.routes').then((m) => m.APPLICATION_ROUTES) },
        ],
      },
    ],
  },
];
