import { computed, inject, Injectable, signal } from '@angular/core';
import { firstValueFrom } from 'rxjs';
import { ApiClient } from '../api/api-client.gen';
import { CreateOrganizationBody, Organization, UpdateOrganizationBody } from '../api/api-types';

const LAST_ORG = 'wharf.organization';

/** One organization with the ETag the API sent for it (the value to send back as If-Match). */
export interface VersionedOrganization {
  organization: Organization;
  etag: string;
}

/** The organizations the user belongs to and the one the portal currently shows (from the URL: /orgs/:orgId/…). */
@Injectable({ providedIn: 'root' })
export class OrgContext {
  private readonly api = inject(ApiClient);
  readonly organizations = signal<Organization[] | null>(null);
  readonly currentId = signal<string | null>(null);
  readonly current = computed(() => this.organizations()?.find((o) => o.id === this.currentId()) ?? null);

  async load(): Promise<Organization[]> {
    const list = await firstValueFrom(this.api.organizationsList());
    this.organizations.set(list);
    return list;
  }

  async ensureLoaded(): Promise<Organization[]> {
    return this.organizations() ?? this.load();
  }

  /** GET /organizations/:id, keeping its ETag (falls back to the version in the body when no ETag is exposed). */
  async fetch(id: string): Promise<VersionedOrganization> {
    const res = await firstValueFrom(this.api.organizationsGet({ path: { orgId: id } }, 'response'));
    const organization = res.body!;
    this.replace(organization);
    return { organization, etag: res.headers.get('ETag') ?? `"${organization.version}"` };
  }

  /** Creates an organization (the caller becomes its owner) and refreshes the list. */
  async create(body: CreateOrganizationBody): Promise<Organization> {
    const created = await firstValueFrom(this.api.organizationsCreate({ body }));
    await this.load();
    return created;
  }

  /** PATCH /organizations/:id with If-Match: a stale ETag answers 412 (someone else changed it meanwhile). */
  async update(id: string, etag: string, patch: UpdateOrganizationBody): Promise<VersionedOrganization> {
    const updated = await firstValueFrom(this.api.organizationsUpdate({ path: { orgId: id }, body: patch, headers: { 'if-match': etag } }));
    this.replace(updated);
    return { organization: updated, etag: `"${updated.version}"` };
  }

  select(id: string): void {
    this.currentId.set(id);
    try {
      localStorage.setItem(LAST_ORG, id);
    } catch {
      /* storage may be unavailable: the URL still carries the organization */
    }
  }

  /** The organization to open by default: the last one used, else the first. */
  preferred(list: Organization[]): Organization | null {
    let last: string | null = null;
    try {
      last = localStorage.getItem(LAST_ORG);
    } catch {
      last = null;
    }
    return list.find((o) => o.id === last) ?? list[0] ?? null;
  }

  clear(): void {
    this.organizations.set(null);
    this.currentId.set(null);
  }

  private replace(o: Organization): void {
    this.organizations.update((list) => (list ? list.map((x) => (x.id === o.id ? o : x)) : list));
  }
}
