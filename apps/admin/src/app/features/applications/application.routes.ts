import { Routes } from '@angular/router';
import { ApplicationLayout } from './application.layout';

export const APPLICATION_ROUTES: Routes = [
  {
    path: '',
    component: ApplicationLayout,
    children: [
      { path: '', pathMatch: 'full', redirectTo: 'overview' },
      { path: 'overview', title: 'Application · Wharf', loadComponent: () => import('./overview.tab').then((m) => m.OverviewTab) },
      { path: 'deployments', title: 'Deployments · Wharf', loadComponent: () => import('./deployments.tab').then((m) => m.DeploymentsTab) },
      { path: 'logs', title: 'Runtime logs · Wharf', loadComponent: () => import('./runtime-logs.tab').then((m) => m.RuntimeLogsTab) },
      { path: 'domains', title: 'Domains · Wharf', loadComponent: () => import('./domains.tab').then((m) => m.DomainsTab) },
      { path: 'source', title: 'Source · Wharf', loadComponent: () => import('./source.tab').then((m) => m.SourceTab) },
      { path: 'previews', title: 'Previews · Wharf', loadComponent: () => import('./previews.tab').then((m) => m.PreviewsTab) },
      { path: 'variables', title: 'Variables · Wharf', loadComponent: () => import('./variables.tab').then((m) => m.VariablesTab) },
      { path: 'settings', title: 'Settings · Wharf', loadComponent: () => import('./settings.tab').then((m) => m.SettingsTab) },
      { path: 'danger', title: 'Danger zone · Wharf', loadComponent: () => import('./danger.tab').then((m) => m.DangerTab) },
    ],
  },
];
