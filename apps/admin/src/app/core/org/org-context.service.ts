import { HttpClient } from '@angular/common/http';
import { computed, inject, Injectable, signal } from '@angular/core';
import { firstValueFrom } from 'rxjs';
import { API, Organization } from '../api/api-types';

const LAST_ORG = 'wharf.organization';

/** The organizations the user belongs to and the one the portal currently shows (from the URL: /orgs/:orgId/…). */
@Injectable({ providedIn: 'root' })
export class OrgContext {
  private readonly http = inject(HttpClient);
  readonly organizations = signal<Organization[] | null>(null);
  readonly currentId = signal<string | null>(null);
  readonly current = computed(() => this.organizations()?.find((o) => o.id === this.currentId()) ?? null);

  async load(): Promise<Organization[]> {
    const list = await firstValueFrom(this.http.get<Organization[]>(`${API}/organizations`));
    this.organizations.set(list);
    return list;
  }

  async ensureLoaded(): Promise<Organization[]> {
    return this.organizations() ?? this.load();
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
}
