import { Module } from '@nestjs/common';
import { handlersOf } from '@wharf/core';
import { IdentityModule } from '@wharf/identity';
import { TenantScope } from './access/tenant-scope';
import { Authenticator } from './auth/authenticator.service';
import * as auth from './auth/auth.commands';
import * as twoFactor from './auth/two-factor.commands';
import * as orgs from './organizations/organization.commands';
import * as members from './members/member.commands';
import * as roles from './roles/role.commands';
import * as apiKeys from './api-keys/api-key.commands';
import * as oidcProviders from './oidc/oidc-provider.commands';
import * as oidcLogin from './oidc/oidc-login.commands';
import { OidcClientFactory } from './oidc/oidc-client';
import { IdentityMaintenance } from './maintenance/identity-maintenance';


/** Organizations, memberships, roles, invitations, API keys, authentication, and the one tenant-scoped data path. */
@Module({
  imports: [IdentityModule],
  providers: [
    TenantScope,
    Authenticator,
    auth.SetupTokenAnnouncer,
    IdentityMaintenance,
    ...handlersOf(auth),
    ...handlersOf(twoFactor),
    ...handlersOf(orgs),
    ...handlersOf(members),
    ...handlersOf(roles),
    ...handlersOf(apiKeys),
    OidcClientFactory,
    ...handlersOf(oidcProviders),
    ...handlersOf(oidcLogin),
  ],
  exports: [TenantScope, Authenticator, IdentityModule],
})
export class TenancyModule {}
