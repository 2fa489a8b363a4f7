/**
 * Types of the API as the portal uses them: aliases of the types generated from the OpenAPI document
 * (openapi.json → schema.d.ts, `npm run openapi`). Nothing here restates a DTO by hand; the few portal-local types at
 * the end are view models or narrow the generator's output where the document is looser than the API.
 */
import type { components } from './schema';

type Schemas = components['schemas'];

// Authentication and the signed-in user
export type SetupBody = Schemas['SetupDto'];
export type SetupStatus = Schemas['SetupStatusDto'];
export type SetupResult = Schemas['SetupResultDto'];
export type LoginBody = Schemas['LoginDto'];
export type TokenPair = Schemas['TokenPairDto'];
export type Me = Schemas['MeDto'];
export type MeUser = Schemas['MeUserDto'];
export type MeMembership = Schemas['MeMembershipDto'];
export type Session = Schemas['SessionDto'];
export type ChangePasswordBody = Schemas['ChangePasswordDto'];
export type TwoFactorSetup = Schemas['TwoFactorSetupDto'];
export type RecoveryCodes = Schemas['RecoveryCodesDto'];
export type TotpCodeBody = Schemas['TotpCodeDto'];
export type PasswordBody = Schemas['PasswordDto'];

// Organizations, members, invitations, roles, API keys
export type Organization = Schemas['OrganizationDto'];
export type CreateOrganizationBody = Schemas['CreateOrganizationDto'];
export type UpdateOrganizationBody = Schemas['UpdateOrganizationDto'];
export type Member = Schemas['MemberDto'];
export type UpdateMemberBody = Schemas['UpdateMemberDto'];
export type OkDto = Schemas['OkDto'];
export type RoleChoice = Schemas['UpdateMemberDto']['role'];
export type Invitation = Schemas['InvitationDto'];
export type CreatedInvitation = Schemas['CreatedInvitationDto'];
export type CreateInvitationBody = Schemas['CreateInvitationDto'];
export type AcceptInvitationBody = Schemas['AcceptInvitationDto'];
export type AcceptedInvitation = Schemas['AcceptedInvitationDto'];
export type InvitationPreview = Schemas['InvitationPreviewDto'];
export type Role = Schemas['RoleDto'];
export type CreateRoleBody = Schemas['CreateRoleDto'];
export type UpdateRoleBody = Schemas['UpdateRoleDto'];
export type ApiKey = Schemas['ApiKeyDto'];
export type CreatedApiKey = Schemas['CreatedApiKeyDto'];
export type CreateServiceAccountKeyBody = Schemas['CreateServiceAccountKeyDto'];
export type CreatePersonalApiKeyBody = Schemas['CreatePersonalApiKeyDto'];
export type AuditEvent = Schemas['AuditEventDto'];
export type AuditEventPage = Schemas['AuditEventPageDto'];
export type AuditVerify = Schemas['AuditVerifyDto'];
export type OidcProvider = Schemas['OidcProviderDto'];
export type CreateOidcProviderBody = Schemas['CreateOidcProviderDto'];
export type PublicOidcProvider = Schemas['PublicOidcProviderDto'];
export type Registry = Schemas['RegistryDto'];
export type CreateRegistryBody = Schemas['CreateRegistryDto'];
export type RegistryTest = Schemas['RegistryTestDto'];

// Projects, environments, variables
export type Project = Schemas['ProjectDto'];
export type ProjectPage = Schemas['ProjectPageDto'];
export type CreatedProject = Schemas['CreatedProjectDto'];
export type CreateProjectBody = Schemas['CreateProjectDto'];
export type UpdateProjectBody = Schemas['UpdateProjectDto'];
export type Environment = Schemas['EnvironmentDto'];
export type EnvironmentPage = Schemas['EnvironmentPageDto'];
export type Variable = Schemas['VariableDto'];
export type VariablePage = Schemas['VariablePageDto'];
export type VariableInput = Schemas['VariableInputDto'];
export type RevealedVariable = Schemas['RevealedVariableDto'];

// Applications and deployments
export type PortSpec = Schemas['PortSpecDto'];
export type MountSpec = Schemas['MountSpecDto'];
export type Runtime = Schemas['RuntimeDto'];
export type Application = Omit<Schemas['ApplicationDto'], 'spec'> & { spec: ApplicationSpec };
export type ApplicationPage = Omit<Schemas['ApplicationPageDto'], 'items'> & { items: Application[] };
export type CreateApplicationBody = Omit<Schemas['CreateApplicationDto'], 'spec'> & { spec: Partial<ApplicationSpec> };
export type UpdateApplicationBody = Omit<Schemas['UpdateApplicationDto'], 'spec'> & { spec?: Partial<ApplicationSpec> };
export type ApplicationStatus = Omit<Schemas['ApplicationStatusDto'], 'tasks'> & { tasks: TaskStatus[] };
export type ServerStatus = Schemas['ServerStatusDto'];
export type AppVariable = Schemas['AppVariableDto'];
export type RevealedAppVariable = Schemas['RevealedAppVariableDto'];
export type RuntimeLogLine = Schemas['RuntimeLogLineDto'];
export type RuntimeLogs = Schemas['RuntimeLogsDto'];
export type Deployment = Schemas['DeploymentDto'];
export type DeploymentPage = Schemas['DeploymentPageDto'];
export type DeploymentStatus = Schemas['DeploymentDto']['status'];
export type DeploymentLogLine = Schemas['DeploymentLogLineDto'];
export type DeploymentLog = Schemas['DeploymentLogDto'];

// Portal-local types

/** A cursor page of any list the API pages (ProjectPageDto, ApplicationPageDto, … all share this shape). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * A nullable property the document declares without a type (`nullable: true` on a `number | null` or
 * `string | null` field) comes out of openapi-typescript as `Record<string, never> | null`; this restores the type.
 */
type Untyped = Record<string, never> | null | undefined;
type Retyped<T, V> = { [K in keyof T]: [Exclude<T[K], undefined>] extends [Exclude<Untyped, undefined>] ? V | null | Extract<T[K], undefined> : T[K] };

/** ApplicationSpecDto with its nullable numbers and registry id typed. */
export type ApplicationSpec = Omit<Schemas['ApplicationSpecDto'], 'registryId' | 'resources'> & {
  registryId?: string | null;
  resources?: Retyped<Schemas['ResourcesSpecDto'], number>;
};

/** One Swarm task of ApplicationStatusDto.tasks (the document types tasks as open records). */
export interface TaskStatus {
  id?: string;
  state: string;
  message?: string;
  error?: string | null;
  node?: string;
  ports?: Array<{ target: number; published: number; protocol?: string }>;
  [k: string]: unknown;
}

/** A permission a role may hold: the document's enum, which is ALL_PERMISSIONS of libs/contracts. */
export type GrantablePermission = Role['permissions'][number];

export const FINISHED: readonly DeploymentStatus[] = ['succeeded', 'failed', 'cancelled', 'superseded'];
