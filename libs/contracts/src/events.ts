import type { Action, Subject } from './permissions';
/** The one versioned event envelope used by the outbox, the audit log, notifications and live updates. */
export type ActorType = 'user' | 'api-key' | 'system';

export interface ActorRef {
  type: ActorType;
  id: string | null;
  /** Display name at the time of the event (email, key name, "system"). */
  name: string;
}

export interface SubjectRef {
  type: string;
  id: string | null;
  name?: string | null;
}

export interface EventEnvelope<P = Record<string, unknown>> {
  id: string;
  type: string;
  version: number;
  occurredAt: string;
  organizationId: string | null;
  actor: ActorRef;
  subject: SubjectRef;
  payload: P;
}

export type AuditOutcome = 'succeeded' | 'denied' | 'failed';

/** A payload with nothing in it (the subject and the audit `changes` say everything). */
export type EmptyPayload = Record<string, never>;

export interface CertificateEventPayload {
  applicationId: string;
  projectId: string;
  environmentId: string;
  domainId: string;
  hosts: string[];
  notAfter?: string | null;
}
export interface ProjectEventPayload {
  projectId: string;
  slug: string;
}
export interface ProjectDeletedPayload extends ProjectEventPayload {
  environmentIds: string[];
  /** Also remove the named volumes Wharf created in it (absent in events staged before the flag existed: false). */
  removeVolumes?: boolean;
}
export interface EnvironmentEventPayload {
  projectId: string;
  environmentId: string;
  slug: string;
}
export interface EnvironmentDeletedPayload extends EnvironmentEventPayload {
  /** Also remove the named volumes Wharf created in it (absent in events staged before the flag existed: false). */
  removeVolumes?: boolean;
}
/** Never carries a value. */
export interface VariableEventPayload {
  projectId: string;
  environmentId: string | null;
  key: string;
  secret: boolean;
}
/**
 * The engine teardown of a deleted organization, project or environment (the subject: its type is the scope) ended.
 * The envelope's organizationId is null for an organization's teardown (the organization is gone).
 */
export interface TeardownEventPayload {
  teardownId: string;
  scope: 'organization' | 'project' | 'environment';
  projectId?: string;
  environmentId?: string;
  status: 'succeeded' | 'failed';
  /** Names of the Swarm services, overlay networks and named volumes removed (completed only). */
  services?: string[];
  networks?: string[];
  volumes?: string[];
  /** Why it failed, cut to 1000 characters (failed only). */
  error?: string;
}
export interface DomainEventPayload {
  applicationId: string;
  projectId: string;
  environmentId: string;
}
/** A pull request's preview: the parent application, the provider and number, the commit and the preview application. */
export interface PreviewEventPayload {
  applicationId: string;
  previewId: string;
  provider: string;
  number: number;
  commit: string;
  /** The child application that runs the preview (null while it awaits its first approval). */
  previewApplicationId: string | null;
  url: string | null;
}
export interface DeploymentEventPayload {
  applicationId: string;
  kind?: string;
  error?: string | null;
  [extra: string]: unknown;
}
export interface InstanceCertificateEventPayload {
  host: string;
  notAfter: string | null;
}

/**
 * Every event type that may be staged into the outbox, with its payload. `stage()` accepts only these (plus the
 * audit-only denials below), and a listener naming a type that is not here stops the process at startup.
 */
export interface EventPayloads {
  'instance.setup-completed': EmptyPayload;
  'auth.login': { method?: 'oidc'; providerId?: string };
  'auth.logout': EmptyPayload;
  'auth.refresh-token-reused': EmptyPayload;
  'session.revoked': EmptyPayload;
  'user.password-changed': EmptyPayload;
  'user.two-factor-enabled': EmptyPayload;
  'user.two-factor-disabled': EmptyPayload;
  'organization.created': EmptyPayload;
  'organization.updated': EmptyPayload;
  /** The envelope's organizationId is null (recorded in the instance chain); the subject is the organization. */
  'organization.deleted': { removeVolumes?: boolean };
  'organization.container-policy-changed': EmptyPayload;
  'member.created': { role: string; via?: 'oidc'; providerId?: string };
  'member.updated': EmptyPayload;
  'member.left': EmptyPayload;
  'member.removed': EmptyPayload;
  'invitation.created': EmptyPayload;
  'invitation.revoked': EmptyPayload;
  'invitation.accepted': EmptyPayload;
  'role.created': EmptyPayload;
  'role.updated': EmptyPayload;
  'role.deleted': EmptyPayload;
  'api-key.created': EmptyPayload;
  'api-key.revoked': EmptyPayload;
  'oidc-provider.created': EmptyPayload;
  'oidc-provider.updated': EmptyPayload;
  'oidc-provider.deleted': EmptyPayload;
  'audit.purged': { count: number | string };
  'audit-event.exported': EmptyPayload;
  'project.created': ProjectEventPayload;
  'project.updated': ProjectEventPayload;
  'project.deleted': ProjectDeletedPayload;
  'environment.created': EnvironmentEventPayload;
  'environment.updated': EnvironmentEventPayload;
  'environment.deleted': EnvironmentDeletedPayload;
  'variable.created': VariableEventPayload;
  'variable.updated': VariableEventPayload;
  'variable.deleted': VariableEventPayload;
  'variable.revealed': VariableEventPayload | { applicationId: string };
  'registry.created': EmptyPayload;
  'registry.updated': EmptyPayload;
  'registry.deleted': EmptyPayload;
  'registry.tested': { ok: boolean };
  'git-provider.created': { kind: string };
  'git-provider.updated': EmptyPayload;
  'git-provider.deleted': EmptyPayload;
  'git-provider.tested': { ok: boolean };
  /** A GitLab OAuth authorization started (authorize URL handed out) and how its callback ended. */
  'git-provider.authorization-started': EmptyPayload;
  'git-provider.authorized': { ok: boolean; reason: string | null };
  'application.created': { projectId: string; environmentId: string };
  'application.updated': EmptyPayload;
  'application.variables-changed': { keys: string[] };
  'application.delete-requested': { removeVolumes: boolean };
  'application.deleted': { volumesRemoved: string[] };
  /** The application's Git source (never the token, the deploy key's private half or the webhook secret). */
  'application.source-changed': { applicationId: string };
  'application.source-removed': { applicationId: string };
  /** A source archive was uploaded (the audit entry names it: file name, size, sha256; never its content). */
  'application.source-uploaded': { applicationId: string; uploadId: string };
  'application.deploy-key-generated': { applicationId: string };
  'application.webhook-secret-revealed': { applicationId: string };
  'application.webhook-secret-rotated': { applicationId: string };
  /**
   * A pull request's preview (subject: the parent application; payload: the preview). `preview.deployed` tells how its
   * deployment ended (`succeeded`/`failed`) with the commit and URL, for a provider commit status.
   */
  'preview.created': PreviewEventPayload;
  'preview.approved': PreviewEventPayload;
  'preview.deployed': PreviewEventPayload & { deploymentId: string; status: 'succeeded' | 'failed' };
  'preview.removed': PreviewEventPayload;
  'preview.settings-changed': { applicationId: string };
  /** A domain of an application (the subject: type `domain`, named by host and path prefix; never its basic-auth hashes). */
  'domain.created': DomainEventPayload;
  'domain.updated': DomainEventPayload;
  'domain.deleted': DomainEventPayload;
  /** A domain's certificate (subject: type `certificate`, named by the domain's host; never the key or the chain). */
  'certificate.issued': CertificateEventPayload;
  'certificate.renewed': CertificateEventPayload;
  'certificate.failed': CertificateEventPayload & { reason: string };
  'certificate.expiring': CertificateEventPayload & { daysLeft: number };
  'certificate.uploaded': CertificateEventPayload;
  'certificate.removed': CertificateEventPayload;
  'certificate.renew-requested': CertificateEventPayload;
  'acme-settings.updated': EmptyPayload;
  /** The certificate of Wharf's own host (organizationId null; subject type `instance-certificate`, named by the host). */
  'instance-certificate.issued': InstanceCertificateEventPayload;
  'instance-certificate.renewed': InstanceCertificateEventPayload;
  'instance-certificate.failed': InstanceCertificateEventPayload & { reason: string };
  'instance-certificate.renew-requested': InstanceCertificateEventPayload;
  'deployment.queued': DeploymentEventPayload;
  'deployment.started': DeploymentEventPayload;
  'deployment.resumed': DeploymentEventPayload;
  'deployment.succeeded': DeploymentEventPayload;
  'deployment.failed': DeploymentEventPayload;
  'deployment.cancelled': DeploymentEventPayload;
  'deployment.cancel-requested': DeploymentEventPayload;
  'deployment.superseded': DeploymentEventPayload & { by: string };
  'deployment.rolled-back': DeploymentEventPayload;
  'teardown.completed': TeardownEventPayload;
  'teardown.failed': TeardownEventPayload;
}
export type EventType = keyof EventPayloads;

/** The same list at run time (the compiler keeps it equal to `EventPayloads`: a missing or extra name fails). */
const EVENT_TYPE_SET: Record<EventType, true> = {
  'instance.setup-completed': true, 'auth.login': true, 'auth.logout': true, 'auth.refresh-token-reused': true,
  'session.revoked': true, 'user.password-changed': true, 'user.two-factor-enabled': true, 'user.two-factor-disabled': true,
  'organization.created': true, 'organization.updated': true, 'organization.deleted': true, 'organization.container-policy-changed': true,
  'member.created': true, 'member.updated': true, 'member.left': true, 'member.removed': true,
  'invitation.created': true, 'invitation.revoked': true, 'invitation.accepted': true,
  'role.created': true, 'role.updated': true, 'role.deleted': true, 'api-key.created': true, 'api-key.revoked': true,
  'oidc-provider.created': true, 'oidc-provider.updated': true, 'oidc-provider.deleted': true,
  'audit.purged': true, 'audit-event.exported': true,
  'project.created': true, 'project.updated': true, 'project.deleted': true,
  'environment.created': true, 'environment.updated': true, 'environment.deleted': true,
  'variable.created': true, 'variable.updated': true, 'variable.deleted': true, 'variable.revealed': true,
  'registry.created': true, 'registry.updated': true, 'registry.deleted': true, 'registry.tested': true,
  'git-provider.created': true, 'git-provider.updated': true, 'git-provider.deleted': true, 'git-provider.tested': true,
  'git-provider.authorization-started': true, 'git-provider.authorized': true,
  'application.created': true, 'application.updated': true, 'application.variables-changed': true, 'application.delete-requested': true, 'application.deleted': true,
  'application.source-changed': true, 'application.source-removed': true, 'application.source-uploaded': true, 'application.deploy-key-generated': true, 'application.webhook-secret-revealed': true, 'application.webhook-secret-rotated': true,
  'preview.created': true, 'preview.approved': true, 'preview.deployed': true, 'preview.removed': true, 'preview.settings-changed': true,
  'domain.created': true, 'domain.updated': true, 'domain.deleted': true,
  'certificate.issued': true, 'certificate.renewed': true, 'certificate.failed': true, 'certificate.expiring': true,
  'certificate.uploaded': true, 'certificate.removed': true, 'certificate.renew-requested': true, 'acme-settings.updated': true,
  'instance-certificate.issued': true, 'instance-certificate.renewed': true, 'instance-certificate.failed': true, 'instance-certificate.renew-requested': true,
  'deployment.queued': true, 'deployment.started': true, 'deployment.resumed': true, 'deployment.succeeded': true, 'deployment.failed': true,
  'deployment.cancelled': true, 'deployment.cancel-requested': true, 'deployment.superseded': true, 'deployment.rolled-back': true,
  'teardown.completed': true, 'teardown.failed': true,
};
export const EVENT_TYPES: readonly EventType[] = Object.keys(EVENT_TYPE_SET) as EventType[];
export const isEventType = (t: string): t is EventType => Object.prototype.hasOwnProperty.call(EVENT_TYPE_SET, t);

/**
 * A refused action (`<subject>.<action>`, outcome `denied`), recorded by the audit log only: no listener may name one.
 * Declared separately so the denial of `project:delete` cannot be mistaken for `project.deleted`.
 */
export type DeniedEventType = `${Subject}.${Action}`;

/** What a unit of work stages: an envelope without its id, time and version (default 1), typed by its event type. */
export type EventInput =
  | { [T in EventType]: Omit<EventEnvelope<EventPayloads[T]>, 'id' | 'occurredAt' | 'version' | 'type'> & { type: T; version?: number } }[EventType]
  | (Omit<EventEnvelope<EmptyPayload>, 'id' | 'occurredAt' | 'version' | 'type'> & { type: DeniedEventType; version?: number });
