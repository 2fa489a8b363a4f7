import { Routes } from '@angular/router';
import { authGuard, guestGuard, setupGuard } from './core/auth/auth.guards';

/**
 * Every screen is lazy. Signed-out screens sit at the top; everything else lives under the shell
 * (features/shell/shell.routes.ts), where later features (projects, environments, applications…) add their routes.
 */
export const routes: Routes = [
  { path: 'login', canActivate: [guestGuard], title: 'Sign in · Wharf', loadComponent: () => import('./features/auth/login.page').then((m) => m.LoginPage) },
  { path: 'setup', canActivate: [guestGuard, setupGuard], title: 'Set up Wharf', loadComponent: () => import('./features/auth/setup.page').then((m) => m.SetupPage) },
  { path: 'invitations/accept', title: 'Accept invitation · Wharf', loadComponent: () => import('./features/auth/accept-invitation.page').then((m) => m.AcceptInvitationPage) },
  { path: '', canActivate: [authGuard], loadChildren: () => import('./features/shell/shell.routes').then((m) => m.SHELL_ROUTES) },
  { path: '**', redirectTo: '' },
];
