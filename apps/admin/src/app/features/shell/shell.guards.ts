import { inject } from '@angular/core';
import { CanActivateFn, Router } from '@angular/router';
import { AbilitiesService } from '../../core/auth/abilities.service';
import { OrgContext } from '../../core/org/org-context.service';

/** `/orgs/:orgId/…`: the organization must be one of the user's; it becomes the current one. */
export const organizationGuard: CanActivateFn = async (route) => {
  const orgs = inject(OrgContext);
  const abilities = inject(AbilitiesService);
  const router = inject(Router);
  const id = route.paramMap.get('orgId');
  let list = await orgs.ensureLoaded();
  // Just joined or created elsewhere: ask again once before giving up.
  if (!list.some((o) => o.id === id)) list = await orgs.load();
  if (!id || !list.some((o) => o.id === id)) return router.createUrlTree(['/']);
  if (!abilities.loaded()) await abilities.load();
  orgs.select(id);
  return true;
};

/** `/`: open the last used organization (or the first one); stay on the page when there is none. */
export const defaultOrganizationGuard: CanActivateFn = async () => {
  const orgs = inject(OrgContext);
  const router = inject(Router);
  const preferred = orgs.preferred(await orgs.ensureLoaded());
  return preferred ? router.createUrlTree(['/orgs', preferred.id]) : true;
};
