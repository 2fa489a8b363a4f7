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

// Projects, environments, variables (generated), and the application/deployment views of libs/applications.
export type Environment = Schemas['EnvironmentDto'];
export type CreatedProject = Schemas['CreatedProjectDto'];
export type Variable = Schemas['VariableDto'];
export type PortSpec = Schemas['PortSpecDto'];
export type MountSpec = Schemas['MountSpecDto'];
/** ApplicationSpecDto with its nullable fields typed (the generator renders `nullable` numbers as objects). */
export interface ApplicationSpec {
  image: string;
  registryId?: string | null;
  command?: string[] | null;
  args?: string[] | null;
  replicas?: number;
  resources?: { cpuLimit?: number | null; memoryLimitMb?: number | null; cpuReservation?: number | null; memoryReservationMb?: number | null };
  ports?: PortSpec[];
  healthcheck?: Schemas['HealthcheckSpecDto'] | null;
  restartPolicy?: Record<string, unknown>;
  update?: Schemas['UpdatePolicySpecDto'];
  rollback?: Schemas['UpdatePolicySpecDto'];
  constraints?: string[];
  labels?: Record<string, string>;
  mounts?: MountSpec[];
  stopGracePeriodMs?: number;
  deployTimeoutMs?: number;
}
export type AuditEvent = Schemas['AuditEventDto'];
export type AuditVerify = Schemas['AuditVerifyDto'];
export type OidcProvider = Schemas['OidcProviderDto'];
export type CreateOidcProviderBody = Schemas['CreateOidcProviderDto'];
export type PublicOidcProvider = Schemas['PublicOidcProviderDto'];
export type CreateRegistryBody = Schemas['CreateRegistryDto'];

export interface Runtime { state: string; running: number; desired: number; observedAt: string }
export interface Application {
  id: string;
  organizationId: string;
  projectId: string;
  environmentId: string;
  serverId: string;
  name: string;
  slug: string;
  serviceName: string;
  spec: ApplicationSpec;
  desiredState: 'running' | 'stopped';
  runtime: Runtime | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}
export interface AppVariable { key: string; value: string | null; secret: boolean; updatedAt: string }
export interface TaskStatus { id?: string; state: string; message?: string; error?: string | null; node?: string; ports?: Array<{ target: number; published: number; protocol?: string }>; [k: string]: unknown }
export interface ApplicationStatus {
  applicationId: string;
  desiredState: string;
  state: string;
  running: number;
  desired: number;
  tasks: TaskStatus[];
  drift: unknown[];
  observedAt: string | null;
  server: { id: string; name: string; status: string; message: string | null; ipvs: boolean | null } | null;
}
export type DeploymentStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'superseded';
export interface Deployment {
  id: string;
  applicationId: string;
  kind: string;
  status: DeploymentStatus;
  image: string;
  imageDigest: string | null;
  replicas: number;
  rollbackOf: string | null;
  requestedBy: { type: string; id: string | null; name: string };
  error: string | null;
  queuedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  cancelRequested: boolean;
}
export interface DeploymentLogLine { seq: number; time: string; step: string; level: string; message: string }
export interface RuntimeLogLine { stream: 'stdout' | 'stderr'; line: string; time: string }
export interface Registry { id: string; name: string; host: string; username: string; passwordSet: true; createdAt: string; updatedAt: string; version: number }
export const FINISHED: readonly DeploymentStatus[] = ['succeeded', 'failed', 'cancelled', 'superseded'];
