/**
 * Types of the API as the portal uses them. Request bodies come from the generated OpenAPI types (schema.d.ts,
 * `npm run openapi`); responses the OpenAPI document does not describe yet are written here, mirroring the views in
 * libs/tenancy (OrganizationView, MemberView, InvitationView, RoleView, ApiKeyView, SessionView).
 */
import type { components } from './schema';
import type { ApiKeyScope, Permission } from '@wharf/contracts';

type Schemas = components['schemas'];
export type SetupBody = Schemas['SetupDto'];
export type SetupResult = Schemas['SetupResultDto'];
export type LoginBody = Schemas['LoginDto'];
export type TokenPair = Schemas['TokenPairDto'];
export type CreateInvitationBody = Schemas['CreateInvitationDto'];
export type AcceptInvitationBody = Schemas['AcceptInvitationDto'];
export type UpdateMemberBody = Schemas['UpdateMemberDto'];
/** The permission matrix edits the vocabulary of libs/contracts; the API validates the exact list. */
export type CreateRoleBody = Omit<Schemas['CreateRoleDto'], 'permissions'> & { permissions: Permission[] };
export type UpdateRoleBody = Omit<Schemas['UpdateRoleDto'], 'permissions'> & { permissions?: Permission[] };
export type RoleChoice = Schemas['UpdateMemberDto']['role'];
export type CreateServiceAccountKeyBody = Schemas['CreateServiceAccountKeyDto'];
export type ChangePasswordBody = Schemas['ChangePasswordDto'];
export type TotpCodeBody = Schemas['TotpCodeDto'];
export type PasswordBody = Schemas['PasswordDto'];

export const API = '/api/v1';

export interface MeUser {
  id: string;
  email: string;
  name: string;
  twoFactorEnabled: boolean;
  isInstanceAdmin: boolean;
}
export interface Me {
  kind: 'user' | 'api-key';
  user: MeUser | null;
  memberships: Array<{ organizationId: string; role: string; customRoleId: string | null; projectIds: string[] | null; twoFactorRequired: boolean }>;
}
export interface Organization {
  id: string;
  name: string;
  slug: string;
  requireTwoFactor: boolean;
  auditRetentionDays: number;
  role: string | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}
export interface Member {
  userId: string;
  email: string;
  name: string;
  role: string;
  customRoleId: string | null;
  projectIds: string[] | null;
  twoFactorEnabled: boolean;
  joinedAt: string;
  version: number;
}
export interface Invitation {
  id: string;
  email: string;
  role: string;
  customRoleId: string | null;
  projectIds: string[] | null;
  expiresAt: string;
  createdAt: string;
  status: 'pending' | 'accepted' | 'revoked' | 'expired';
}
export interface Role {
  id: string | null;
  name: string;
  description: string;
  builtin: boolean;
  permissions: Permission[];
  version: number | null;
}
export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  kind: 'personal' | 'service-account';
  organizationId: string | null;
  role: string | null;
  customRoleId: string | null;
  scopes: ApiKeyScope[];
  expiresAt: string | null;
  lastUsedAt: string | null;
  createdAt: string;
  revokedAt: string | null;
}
export interface Session {
  id: string;
  createdAt: string;
  lastUsedAt: string;
  ip: string | null;
  userAgent: string | null;
  current: boolean;
}
export type Project = Schemas['ProjectDto'];
export type ProjectPage = Schemas['ProjectPageDto'];
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
