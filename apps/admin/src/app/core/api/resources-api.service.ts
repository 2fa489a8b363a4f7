import { inject, Injectable } from '@angular/core';
import { map, Observable, OperatorFunction } from 'rxjs';
import { ApiClient } from './api-client.gen';
import {
  Application, ApplicationPage, ApplicationStatus, AppVariable, AuditEventPage, AuditVerify, CreateApplicationBody, CreatedProject, CreateOidcProviderBody,
  CreateProjectBody, CreateRegistryBody, Deployment, DeploymentLog, DeploymentPage, Environment, EnvironmentPage, OidcProvider, Organization, Project,
  ProjectPage, PublicOidcProvider, Registry, RegistryTest, RevealedAppVariable, RevealedVariable, UpdateApplicationBody, UpdateOrganizationBody, UpdateProjectBody, Variable, VariableInput, VariablePage,
} from './api-types';
import type { components, operations } from './schema';

/** The engine teardown of a deleted project, environment or organization (GET /organizations/{orgId}/teardowns). */
export type Teardown = components['schemas']['TeardownDto'];
export type TeardownList = components['schemas']['TeardownListDto'];

/** The If-Match header for a resource's version (none when the version is unknown). */
export const ifMatch = (version: number | null | undefined) => (version == null ? {} : { 'if-match': `"${version}"` });
/** An answer as the portal's narrower view of it (api-types.ts retypes fields the document leaves open). */
const retyped = <T>(): OperatorFunction<unknown, T> => map((x) => x as T);
type AuditQuery = NonNullable<operations['AuditEventsController_list']['parameters']['query']>;

/** Variables of a project, an environment or an application: one shape for the shared variables editor. */
export interface VariableBackend {
  list(): Observable<Array<Pick<Variable, 'key' | 'value' | 'secret'>>>;
  put(vars: Array<Required<VariableInput>>): Observable<unknown>;
  remove(key: string): Observable<unknown>;
  reveal(key: string): Observable<Pick<RevealedVariable, 'value'>>;
}

export type AuditFilter = Partial<Record<'actor' | 'action' | 'subjectType' | 'subjectId' | 'outcome' | 'from' | 'to' | 'cursor', string>>;

/** The filters that are set (empty fields are left out), as the audit list's query (without its limit and cursor). */
function auditFilters(f: AuditFilter): Omit<AuditQuery, 'limit' | 'cursor'> {
  return {
    actor: f.actor || undefined, action: f.action || undefined, subjectType: f.subjectType || undefined, subjectId: f.subjectId || undefined,
    outcome: (f.outcome || undefined) as AuditQuery['outcome'], from: f.from || undefined, to: f.to || undefined,
  };
}

/** Projects, environments, variables, applications, deployments and the organization-level resources. */
@Injectable({ providedIn: 'root' })
export class ResourcesApi {
  private readonly api = inject(ApiClient);

  // Projects and environments
  projects(orgId: string, limit = 200): Observable<ProjectPage> {
    return this.api.projectsList({ path: { orgId }, query: { limit: String(limit) } });
  }
  project(id: string): Observable<Project> {
    return this.api.projectsGet({ path: { id } });
  }
  createProject(orgId: string, body: CreateProjectBody): Observable<CreatedProject> {
    return this.api.projectsCreate({ path: { orgId }, body });
  }
  updateProject(p: Project, body: UpdateProjectBody): Observable<Project> {
    return this.api.projectsUpdate({ path: { id: p.id }, body, headers: ifMatch(p.version) });
  }
  deleteProject(p: Project, typedSlug: string, removeVolumes = false): Observable<unknown> {
    return this.api.projectsRemove({ path: { id: p.id }, query: { removeVolumes }, headers: { 'x-confirm': typedSlug } });
  }
  environments(projectId: string): Observable<EnvironmentPage> {
    return this.api.projectsEnvironments({ path: { id: projectId }, query: { limit: '200' } });
  }
  environment(id: string): Observable<Environment> {
    return this.api.environmentsGet({ path: { id } });
  }
  createEnvironment(projectId: string, name: string): Observable<Environment> {
    return this.api.projectsCreateEnvironment({ path: { id: projectId }, body: { name } });
  }
  renameEnvironment(e: Environment, name: string): Observable<Environment> {
    return this.api.environmentsUpdate({ path: { id: e.id }, body: { name }, headers: ifMatch(e.version) });
  }
  deleteEnvironment(id: string, removeVolumes = false): Observable<unknown> {
    return this.api.environmentsRemove({ path: { id }, query: { removeVolumes } });
  }
  variables(kind: 'projects' | 'environments', id: string): VariableBackend {
    const path = { id };
    const api = this.api;
    return kind === 'projects'
      ? {
        list: () => api.projectsVariables({ path, query: { limit: '200' } }).pipe(map((p: VariablePage) => p.items)),
        put: (variables) => api.projectsPutVariables({ path, body: { variables } }),
        remove: (key) => api.projectsDeleteVariable({ path: { id, key } }),
        reveal: (key): Observable<RevealedVariable> => api.projectsReveal({ path: { id, key } }),
      }
      : {
        list: () => api.environmentsVariables({ path, query: { limit: '200' } }).pipe(map((p: VariablePage) => p.items)),
        put: (variables) => api.environmentsPutVariables({ path, body: { variables } }),
        remove: (key) => api.environmentsDeleteVariable({ path: { id, key } }),
        reveal: (key): Observable<RevealedVariable> => api.environmentsReveal({ path: { id, key } }),
      };
  }

  // Applications
  orgApplications(orgId: string, cursor?: string): Observable<ApplicationPage> {
    return this.api.organizationApplicationsList({ path: { orgId }, query: { limit: '200', cursor } }).pipe(retyped<ApplicationPage>());
  }
  environmentApplications(envId: string): Observable<ApplicationPage> {
    return this.api.environmentApplicationsList({ path: { environmentId: envId }, query: { limit: '200' } }).pipe(retyped<ApplicationPage>());
  }
  createApplication(envId: string, body: CreateApplicationBody): Observable<Application> {
    return this.api.environmentApplicationsCreate({ path: { environmentId: envId }, body: body as components['schemas']['CreateApplicationDto'] }).pipe(retyped<Application>());
  }
  application(id: string): Observable<Application> {
    return this.api.applicationsGet({ path: { applicationId: id } }).pipe(retyped<Application>());
  }
  updateApplication(a: Application, body: UpdateApplicationBody): Observable<Application> {
    return this.api.applicationsUpdate({ path: { applicationId: a.id }, body: body as components['schemas']['UpdateApplicationDto'], headers: ifMatch(a.version) }).pipe(retyped<Application>());
  }
  deleteApplication(id: string): Observable<unknown> {
    return this.api.applicationsRemove({ path: { applicationId: id } });
  }
  status(id: string): Observable<ApplicationStatus> {
    return this.api.applicationsStatus({ path: { applicationId: id } }).pipe(retyped<ApplicationStatus>());
  }
  appVariables(id: string): VariableBackend {
    const path = { applicationId: id };
    return {
      list: (): Observable<AppVariable[]> => this.api.applicationsVariables({ path }),
      put: (variables) => this.api.applicationsSetVariables({ path, body: { variables } }),
      remove: (key) => this.api.applicationsDeleteVariable({ path: { ...path, key } }),
      reveal: (key): Observable<RevealedAppVariable> => this.api.applicationsReveal({ path: { ...path, key } }),
    };
  }
  /** The Server-Sent Events URL of an application's runtime logs: the last `tail` lines (since a time), then new ones. */
  runtimeLogsUrl(id: string, tail: number, since?: string): string {
    return this.api.applicationsRuntimeLogsUrl({ path: { applicationId: id }, query: { follow: true, tail, since } });
  }
  lifecycle(id: string, action: 'stop' | 'start' | 'restart'): Observable<Deployment> {
    const path = { applicationId: id };
    return action === 'stop' ? this.api.applicationsStop({ path }) : action === 'start' ? this.api.applicationsStart({ path }) : this.api.applicationsRestart({ path });
  }
  scale(id: string, replicas: number): Observable<Deployment> {
    return this.api.applicationsScale({ path: { applicationId: id }, body: { replicas } });
  }

  // Deployments
  deploy(appId: string, kind: 'deploy' | 'redeploy' = 'deploy'): Observable<Deployment> {
    return this.api.applicationsDeploy({ path: { applicationId: appId }, body: { kind } });
  }
  /** A Git application's deployment of a chosen commit and/or ref (for this deployment only). */
  deployCommit(appId: string, pick: { commit?: string; ref?: string }): Observable<Deployment> {
    return this.api.applicationsDeploy({ path: { applicationId: appId }, body: { kind: 'deploy', ...pick } });
  }
  deployments(appId: string): Observable<DeploymentPage> {
    return this.api.applicationsDeployments({ path: { applicationId: appId }, query: { limit: '50' } });
  }
  deployment(id: string): Observable<Deployment> {
    return this.api.deploymentsGet({ path: { deploymentId: id } });
  }
  deploymentLog(id: string): Observable<DeploymentLog> {
    return this.api.deploymentsLogs({ path: { deploymentId: id } });
  }
  /** The Server-Sent Events URL of a deployment's log: the lines so far, then new ones and the status until it finishes. */
  deploymentLogStreamUrl(id: string): string {
    return this.api.deploymentsLogsUrl({ path: { deploymentId: id }, query: { follow: true } });
  }
  cancel(id: string): Observable<unknown> {
    return this.api.deploymentsCancel({ path: { deploymentId: id } });
  }
  rollback(id: string): Observable<Deployment> {
    return this.api.deploymentsRollback({ path: { deploymentId: id } });
  }

  // Organization-level resources
  updateOrganization(o: Organization, body: UpdateOrganizationBody): Observable<Organization> {
    return this.api.organizationsUpdate({ path: { orgId: o.id }, body, headers: ifMatch(o.version) });
  }
  registries(orgId: string): Observable<Registry[]> {
    return this.api.registriesList({ path: { orgId } });
  }
  createRegistry(orgId: string, body: CreateRegistryBody): Observable<Registry> {
    return this.api.registriesCreate({ path: { orgId }, body });
  }
  testRegistry(id: string): Observable<RegistryTest> {
    return this.api.registriesTest({ path: { registryId: id } });
  }
  deleteRegistry(id: string): Observable<unknown> {
    return this.api.registriesRemove({ path: { registryId: id } });
  }
  audit(orgId: string, filter: AuditFilter): Observable<AuditEventPage> {
    return this.api.auditEventsList({ path: { orgId }, query: { limit: 50, cursor: filter.cursor || undefined, ...auditFilters(filter) } });
  }
  auditVerify(orgId: string): Observable<AuditVerify> {
    return this.api.auditEventsVerify({ path: { orgId } });
  }
  auditExportUrl(orgId: string, format: 'csv' | 'ndjson', filter: AuditFilter = {}): string {
    // The same filters as the list (not its cursor): the file holds what the screen shows.
    return this.api.auditEventsExportUrl({ path: { orgId }, query: { format, ...auditFilters(filter) } });
  }
  oidcProviders(orgId: string): Observable<OidcProvider[]> {
    return this.api.oidcProvidersList({ path: { orgId } });
  }
  createOidcProvider(orgId: string, body: CreateOidcProviderBody): Observable<OidcProvider> {
    return this.api.oidcProvidersCreate({ path: { orgId }, body });
  }
  deleteOidcProvider(orgId: string, id: string): Observable<unknown> {
    return this.api.oidcProvidersRemove({ path: { orgId, providerId: id } });
  }
  publicOidcProviders(orgSlug: string): Observable<PublicOidcProvider[]> {
    return this.api.oidcAuthProviders({ query: { organization: orgSlug } });
  }
  /** Recent engine teardowns of deleted projects and environments (newest first), optionally of one project. */
  teardowns(orgId: string, projectId?: string): Observable<TeardownList> {
    return this.api.projectsTeardowns({ path: { orgId }, query: projectId ? { projectId } : {} });
  }
}
