import { Routes } from '@angular/router';
import { OrganizationSettingsLayout } from './organization-settings.layout';

export const ORGANIZATION_ROUTES: Routes = [
  {
    path: '',
    component: OrganizationSettingsLayout,
    children: [
      { path: '', pathMatch: 'full', redirectTo: 'members' },
      { path: 'members', title: 'Members · Wharf', loadComponent: () => import('./members.page').then((m) => m.MembersPage) },
      { path: 'invitations', title: 'Invitations · Wharf', loadComponent: () => import('./invitations.page').then((m) => m.InvitationsPage) },
      { path: 'roles', title: 'Roles · Wharf', loadComponent: () => import('./roles.page').then((m) => m.RolesPage) },
      { path: 'api-keys', title: 'API keys · Wharf', loadComponent: () => import('./api-keys.page').then((m) => m.ApiKeysPage) },
      { path: 'registries', title: 'Registries · Wharf', loadComponent: () => import('./registries.page').then((m) => m.RegistriesPage) },
      { path: 'git-providers', title: 'Git providers · Wharf', loadComponent: () => import('./git-providers.page').then((m) => m.GitProvidersPage) },
      { path: 'certificates', title: 'Certificates · Wharf', loadComponent: () => import('./certificates.page').then((m) => m.CertificatesPage) },
      { path: 'general', title: 'General · Wharf', loadComponent: () => import('./general.page').then((m) => m.OrganizationGeneralPage) },
      { path: 'security', title: 'Security · Wharf', loadComponent: () => import('./security.page').then((m) => m.SecurityPage) },
      { path: 'audit', title: 'Audit log · Wharf', loadComponent: () => import('./audit.page').then((m) => m.AuditPage) },
      { path: 'sso', title: 'Single sign-on · Wharf', loadComponent: () => import('./oidc-providers.page').then((m) => m.OidcProvidersPage) },
    ],
  },
];
