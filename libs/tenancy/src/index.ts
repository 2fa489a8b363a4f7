import { OrganizationEntity } from './entities/organization.entity';
import { RoleEntity } from './entities/role.entity';
import { MembershipEntity } from './entities/membership.entity';
import { InvitationEntity } from './entities/invitation.entity';
import { ApiKeyEntity } from './entities/api-key.entity';
import { OidcProviderEntity } from './entities/oidc-provider.entity';

export * from './entities/organization.entity';
export * from './entities/role.entity';
export * from './entities/membership.entity';
export * from './entities/invitation.entity';
export * from './entities/api-key.entity';
export * from './entities/oidc-provider.entity';
export * from './access/principal';
export * from './access/ability';
export * from './access/tenant-scope';
export * from './access/grants';
export * from './auth/authenticator.service';
export * from './auth/auth.commands';
export * from './auth/two-factor.commands';
export * from './organizations/organization.commands';
export * from './members/member.commands';
export * from './roles/role.commands';
export * from './api-keys/api-key.commands';
export * from './tenancy.module';

export const TENANCY_ENTITIES = [OrganizationEntity, RoleEntity, MembershipEntity, InvitationEntity, ApiKeyEntity, OidcProviderEntity];
