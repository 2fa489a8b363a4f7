import { HttpClient, HttpParams } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import { map, Observable } from 'rxjs';
import {
  API, Application, ApplicationPage, ApplicationStatus, AppVariable, AuditEventPage, AuditVerify, CreateApplicationBody, CreatedProject, CreateOidcProviderBody,
  CreateProjectBody, CreateRegistryBody, Deployment, DeploymentLog, DeploymentPage, Environment, EnvironmentPage, OidcProvider, Organization, Project,
  ProjectPage, PublicOidcProvider, Registry, RegistryTest, RevealedAppVariable, RevealedVariable, UpdateApplicationBody, UpdateOrganizationBody, UpdateProjectBody, Variable, VariableInput,
  VariablePage,
} from './api-types';

export const ifMatch = (version: number | null | undefined) => (version == null ? {} : { headers: { 'If-Match': `"${version}"` } });
const enc = encodeURIComponent;

/** Variables of a project, an environment or an application: one shape for the shared variables editor. */
export interface VariableBackend {
  list(): Observable<Array<Pick<Variable, 'key' | 'value' | 'secret'>>>;
  put(vars: Array<Required<VariableInput>>): Observable<unknown>;
  remove(key: string): Observable<unknown>;
  reveal(key: string): Observable<Pick<RevealedVariable, 'value'>>;
}

export type AuditFilter = Partial<Record<'actor' | 'action' | 'subjectType' | 'subjectId' | 'outcome' | 'from' | 'to' | 'cursor', string>>;

/** Projects, environments, variables, applications, deployments and the organization-level resources. */
@Injectable({ providedIn: 'root' })
export class ResourcesApi {
  private readonly http = inject(HttpClient);
  private org(orgId: string): string {
    return `${API}/organizations/${enc(orgId)}`;
  }

  // Projects and environments
  projects(orgId: string, limit = 200): Observable<ProjectPage> {
    return this.http.get<ProjectPage>(`${this.org(orgId)}/projects`, { params: { limit } });
  }
  project(id: string): Observable<Project> {
    return this.http.get<Project>(`${API}/projects/${enc(id)}`);
  }
  createProject(orgId: string, body: CreateProjectBody): Observable<CreatedProject> {
    return this.http.post<CreatedProject>(`${this.org(orgId)}/projects`, body);
  }
  updateProject(p: Project, body: UpdateProjectBody): Observable<Project> {
    return this.http.patch<Project>(`${API}/projects/${p.id}`, body, ifMatch(p.version));
  }
  deleteProject(p: Project, typedSlug: string, removeVolumes = false): Observable<unknown> {
    return this.http.delete(`${API}/projects/${p.id}`, { headers: { 'X-Confirm': typedSlug }, params: { removeVolumes } });
  }
  environments(projectId: string): Observable<EnvironmentPage> {
    return this.http.get<EnvironmentPage>(`${API}/projects/${enc(projectId)}/environments`, { params: { limit: 200 } });
  }
  environment(id: string): Observable<Environment> {
    return this.http.get<Environment>(`${API}/environments/${enc(id)}`);
  }
  createEnvironment(projectId: string, name: string): Observable<Environment> {
    return this.http.post<Environment>(`${API}/projects/${projectId}/environments`, { name });
  }
  renameEnvironment(e: Environment, name: string): Observable<Environment> {
    return this.http.patch<Environment>(`${API}/environments/${e.id}`, { name }, ifMatch(e.version));
  }
  deleteEnvironment(id: string, removeVolumes = false): Observable<unknown> {
    return this.http.delete(`${API}/environments/${id}`, { params: { removeVolumes } });
  }
  variables(kind: 'projects' | 'environments', id: string): VariableBackend {
    const base = `${API}/${kind}/${enc(id)}/variables`;
    return {
      list: () => this.http.get<VariablePage>(base, { params: { limit: 200 } }).pipe(map((p) => p.items)),
      put: (variables) => this.http.put(base, { variables }),
      remove: (key) => this.http.delete(`${base}/${enc(key)}`),
      reveal: (key) => this.http.post<RevealedVariable>(`${base}/${enc(key)}/reveal`, {}),
    };
  }

  // Applications
  orgApplications(orgId: string, cursor?: string): Observable<ApplicationPage> {
    return this.http.get<ApplicationPage>(`${this.org(orgId)}/applications`, { params: cursor ? { limit: 200, cursor } : { limit: 200 } });
  }
  environmentApplications(envId: string): Observable<ApplicationPage> {
    return this.http.get<ApplicationPage>(`${API}/environments/${enc(envId)}/applications`, { params: { limit: 200 } });
  }
  createApplication(envId: string, body: CreateApplicationBody): Observable<Application> {
    return this.http.post<Application>(`${API}/environments/${envId}/applications`, body);
  }
  application(id: string): Observable<Application> {
    return this.http.get<Application>(`${API}/applications/${enc(id)}`);
  }
  updateApplication(a: Application, body: UpdateApplicationBody): Observable<Application> {
    return this.http.patch<Application>(`${API}/applications/${a.id}`, body, ifMatch(a.version));
  }
  deleteApplication(id: string): Observable<unknown> {
    return this.http.delete(`${API}/applications/${id}`);
  }
  status(id: string): Observable<ApplicationStatus> {
    return this.http.get<ApplicationStatus>(`${API}/applications/${enc(id)}/status`);
  }
  appVariables(id: string): VariableBackend {
    const base = `${API}/applications/${enc(id)}/variables`;
    return {
      list: () => this.http.get<AppVariable[]>(base),
      put: (variables) => this.http.put(base, { variables }),
      remove: (key) => this.http.delete(`${base}/${enc(key)}`),
      reveal: (key) => this.http.post<RevealedAppVariable>(`${base}/${enc(key)}/reveal`, {}),
    };
  }
  lifecycle(id: string, action: 'stop' | 'start' | 'restart'): Observable<Deployment> {
    return this.http.post<Deployment>(`${API}/applications/${id}/${action}`, {});
  }
  scale(id: string, replicas: number): Observable<Deployment> {
    return this.http.post<Deployment>(`${API}/applications/${id}/scale`, { replicas });
  }

  // Deployments
  deploy(appId: string, kind: 'deploy' | 'redeploy' = 'deploy'): Observable<Deployment> {
    return this.http.post<Deployment>(`${API}/applications/${appId}/deployments`, { kind });
  }
  deployments(appId: string): Observable<DeploymentPage> {
    return this.http.get<DeploymentPage>(`${API}/applications/${enc(appId)}/deployments`, { params: { limit: 50 } });
  }
  deployment(id: string): Observable<Deployment> {
    return this.http.get<Deployment>(`${API}/deployments/${enc(id)}`);
  }
  deploymentLog(id: string): Observable<DeploymentLog> {
    return this.http.get<DeploymentLog>(`${API}/deployments/${enc(id)}/logs`);
  }
  cancel(id: string): Observable<unknown> {
    return this.http.post(`${API}/deployments/${id}/cancel`, {});
  }
  rollback(id: string): Observable<Deployment> {
    return this.http.post<Deployment>(`${API}/deployments/${id}/rollback`, {});
  }

  // Organization-level resources
  updateOrganization(o: Organization, body: UpdateOrganizationBody): Observable<Organization> {
    return this.http.patch<Organization>(this.org(o.id), body, ifMatch(o.version));
  }
  registries(orgId: string): Observable<Registry[]> {
    return this.http.get<Registry[]>(`${this.org(orgId)}/registries`);
  }
  createRegistry(orgId: string, body: CreateRegistryBody): Observable<Registry> {
    return this.http.post<Registry>(`${this.org(orgId)}/registries`, body);
  }
  testRegistry(id: string): Observable<RegistryTest> {
    return this.http.post<RegistryTest>(`${API}/registries/${id}/test`, {});
  }
  deleteRegistry(id: string): Observable<unknown> {
    return this.http.delete(`${API}/registries/${id}`);
  }
  audit(orgId: string, filter: AuditFilter): Observable<AuditEventPage> {
    let params = new HttpParams().set('limit', 50);
    for (const [k, v] of Object.entries(filter)) if (v) params = params.set(k, v);
    return this.http.get<AuditEventPage>(`${this.org(orgId)}/audit-events`, { params });
  }
  auditVerify(orgId: string): Observable<AuditVerify> {
    return this.http.get<AuditVerify>(`${this.org(orgId)}/audit-events/verify`);
  }
  auditExportUrl(orgId: string, format: 'csv' | 'ndjson', filter: AuditFilter = {}): string {
    const q = new URLSearchParams({ format });
    // The same filters as the list (not its cursor): the file holds what the screen shows.
    for (const [k, v] of Object.entries(filter)) if (v && k !== 'cursor') q.set(k, v);
    return `${this.org(orgId)}/audit-events/export?${q}`;
  }
  oidcProviders(orgId: string): Observable<OidcProvider[]> {
    return this.http.get<OidcProvider[]>(`${this.org(orgId)}/oidc-providers`);
  }
  createOidcProvider(orgId: string, body: CreateOidcProviderBody): Observable<OidcProvider> {
    return this.http.post<OidcProvider>(`${this.org(orgId)}/oidc-providers`, body);
  }
  deleteOidcProvider(orgId: string, id: string): Observable<unknown> {
    return this.http.delete(`${this.org(orgId)}/oidc-providers/${id}`);
  }
  publicOidcProviders(orgSlug: string): Observable<PublicOidcProvider[]> {
    return this.http.get<PublicOidcProvider[]>(`${API}/auth/oidc/providers`, { params: { organization: orgSlug } });
  }
}
