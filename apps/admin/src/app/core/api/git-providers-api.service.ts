import { inject, Injectable } from '@angular/core';
import { map, Observable } from 'rxjs';
import { ApiClient } from './api-client.gen';
import { ifMatch } from './resources-api.service';
import type { components } from './schema';

type Schemas = components['schemas'];

/** An organization's Git provider connection as the API answers it (secrets never; `secretsSet` says which are stored). */
export type GitProvider = Schemas['GitProviderDto'];
export type CreateGitProviderBody = Schemas['CreateGitProviderDto'];
export type UpdateGitProviderBody = Schemas['UpdateGitProviderDto'];
export type GitProviderDelivery = Schemas['GitProviderDeliveryDto'];
export type GitProviderTest = Schemas['GitProviderTestDto'];
export type GitProviderOAuthStart = Schemas['GitProviderOAuthStartDto'];
export type ProviderRepository = Schemas['ProviderRepositoryDto'];
export type ProviderBranch = Schemas['ProviderBranchDto'];

/** Git provider connections (GitHub App, GitLab, Gitea/Forgejo, Bitbucket) and what they list through the worker. */
@Injectable({ providedIn: 'root' })
export class GitProvidersApi {
  private readonly api = inject(ApiClient);

  list(orgId: string): Observable<GitProvider[]> {
    return this.api.gitProvidersList({ path: { orgId } });
  }
  create(orgId: string, body: CreateGitProviderBody): Observable<GitProvider> {
    return this.api.gitProvidersCreate({ path: { orgId }, body });
  }
  /** GitLab OAuth connections: the provider's authorize URL (the browser goes there and comes back to the portal). */
  authorize(providerId: string): Observable<GitProviderOAuthStart> {
    return this.api.gitProviderOAuthAuthorize({ path: { providerId } });
  }
  /** PATCH with If-Match: the version the edit form was filled from. Secrets left out keep their stored values. */
  update(p: Pick<GitProvider, 'id' | 'version'>, body: UpdateGitProviderBody): Observable<GitProvider> {
    return this.api.gitProvidersUpdate({ path: { providerId: p.id }, body, headers: ifMatch(p.version) });
  }
  deliveries(providerId: string): Observable<GitProviderDelivery[]> {
    return this.api.gitProvidersDeliveries({ path: { providerId } });
  }
  test(providerId: string): Observable<GitProviderTest> {
    return this.api.gitProvidersTest({ path: { providerId } });
  }
  remove(providerId: string): Observable<void> {
    return this.api.gitProvidersRemove({ path: { providerId } }).pipe(map(() => undefined));
  }
  repositories(providerId: string, search?: string): Observable<ProviderRepository[]> {
    return this.api.gitProvidersRepositories({ path: { providerId }, ...(search ? { query: { search } } : {}) });
  }
  branches(providerId: string, repository: string): Observable<ProviderBranch[]> {
    return this.api.gitProvidersBranches({ path: { providerId }, query: { repository } });
  }
}

/** The fields a connection of each kind takes (besides name and kind), for the connect form. */
export const PROVIDER_FIELDS: Record<string, ReadonlyArray<'baseUrl' | 'appId' | 'installationId' | 'privateKey' | 'webhookSecret' | 'token' | 'username' | 'workspace'>> = {
  github: ['baseUrl', 'appId', 'installationId', 'privateKey', 'webhookSecret'],
  gitlab: ['baseUrl', 'token'],
  gitea: ['baseUrl', 'token'],
  bitbucket: ['baseUrl', 'workspace', 'username', 'token'],
};

/** A GitLab connection through an OAuth application, or a Bitbucket one through an OAuth consumer, takes these instead of a token (authorized afterwards). */
export const OAUTH_FIELDS: Record<string, readonly string[]> = { gitlab: ['baseUrl', 'clientId', 'clientSecret'], bitbucket: ['baseUrl', 'workspace', 'clientId', 'clientSecret'] };

/** The connect form's fields for a kind and, for GitLab and Bitbucket, the authentication ('token' or 'oauth'). */
export function createFields(kind: string, auth: string): readonly string[] {
  return auth === 'oauth' && OAUTH_FIELDS[kind] ? OAUTH_FIELDS[kind] : (PROVIDER_FIELDS[kind] ?? []);
}

/** The create body for a kind: only that kind's fields, empty ones left out (the server applies defaults). */
export function providerBody(v: Record<string, string>): CreateGitProviderBody {
  const body: Record<string, string> = { name: v['name'].trim(), kind: v['kind'] };
  if (OAUTH_FIELDS[v['kind']] && v['auth'] === 'oauth') body['auth'] = 'oauth';
  for (const f of createFields(v['kind'], v['auth'] ?? 'token')) if (v[f]?.trim()) body[f] = f === 'privateKey' ? v[f] : v[f].trim();
  return body as unknown as CreateGitProviderBody;
}

/** The secret fields (write-only: an empty one keeps the stored value). */
export const SECRET_FIELDS: ReadonlySet<string> = new Set(['privateKey', 'webhookSecret', 'token', 'clientSecret']);

/**
 * The PATCH body of the edit form: the name and the kind's settings (an empty optional one clears it, e.g. a Bitbucket
 * username), and only the secrets that were typed (empty keeps the stored one).
 */
export function providerPatch(p: Pick<GitProvider, 'kind' | 'auth'>, v: Record<string, string>): UpdateGitProviderBody {
  const body: Record<string, string> = { name: v['name'].trim() };
  for (const f of createFields(p.kind, p.auth)) {
    if (SECRET_FIELDS.has(f)) {
      if (v[f]?.trim()) body[f] = f === 'privateKey' ? v[f] : v[f].trim();
    } else if (f !== 'baseUrl' || v[f]?.trim()) body[f] = (v[f] ?? '').trim();
  }
  return body as unknown as UpdateGitProviderBody;
}

/** The full URL of a connection's webhook (GitHub App connections), from Wharf's address in the browser. */
export const providerWebhookUrl = (p: Pick<GitProvider, 'webhookPath'>, origin: string): string | null =>
  p.webhookPath ? `${origin.replace(/\/+$/, '')}${p.webhookPath}` : null;
