import { inject } from '@angular/core';
import { CanActivateFn, Router } from '@angular/router';
import { AuthService } from './auth.service';

/** Signed-in screens: otherwise to /login, remembering where the user wanted to go. */
export const authGuard: CanActivateFn = async (_route, state) => {
  const auth = inject(AuthService);
  const router = inject(Router);
  const me = await auth.ensureLoaded().catch(() => null);
  if (me) return true;
  // A fresh install opens the setup form instead of a sign-in nobody can pass yet.
  if (await auth.checkSetup().catch(() => false)) return router.createUrlTree(['/setup']);
  return router.createUrlTree(['/login'], { queryParams: state.url && state.url !== '/' ? { returnUrl: state.url } : {} });
};

/** Sign-in and setup screens: a signed-in user goes to the portal instead. */
export const guestGuard: CanActivateFn = async () => {
  // inject() only works before the first await.
  const auth = inject(AuthService);
  const router = inject(Router);
  const me = await auth.ensureLoaded().catch(() => null);
  return me ? router.createUrlTree(['/']) : true;
};

/** /setup: only while setup is still needed; afterwards it is the sign-in page. */
export const setupGuard: CanActivateFn = async () => {
  const auth = inject(AuthService);
  const router = inject(Router);
  const needed = await auth.checkSetup().catch(() => true);
  return needed ? true : router.createUrlTree(['/login']);
};
