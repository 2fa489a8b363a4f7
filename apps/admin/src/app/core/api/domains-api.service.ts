import { inject, Injectable } from '@angular/core';
import { map, Observable } from 'rxjs';
import { ApiClient } from './api-client.gen';
import { ifMatch } from './resources-api.service';
import type { components } from './schema';

type Schemas = components['schemas'];

/** A domain of an application as the API answers it (basic-auth users by name only). */
export type Domain = Schemas['DomainDto'];
/**
 * The body of POST …/domains. The document declares the nullable string `pathPrefix` without a type (it comes out of
 * openapi-typescript as `Record<string, never>`): typed here as what the API takes.
 */
export type CreateDomainBody = Omit<Schemas['CreateDomainDto'], 'pathPrefix'> & { pathPrefix?: string };
/** The body of PATCH /domains/{id}: the given fields replace the stored ones; null removes pathPrefix or rateLimit. */
export type UpdateDomainBody = Omit<Schemas['UpdateDomainDto'], 'pathPrefix'> & { pathPrefix?: string | null };

/** Domains of applications (GET/POST /applications/{id}/domains, GET/PATCH/DELETE /domains/{id}). */
@Injectable({ providedIn: 'root' })
export class DomainsApi {
  private readonly api = inject(ApiClient);

  list(applicationId: string): Observable<Domain[]> {
    return this.api.domainsList({ path: { applicationId } });
  }
  create(applicationId: string, body: CreateDomainBody): Observable<Domain> {
    return this.api.domainsCreate({ path: { applicationId }, body: body as Schemas['CreateDomainDto'] });
  }
  update(d: Pick<Domain, 'id' | 'version'>, body: UpdateDomainBody): Observable<Domain> {
    return this.api.domainsUpdate({ path: { domainId: d.id }, body: body as Schemas['UpdateDomainDto'], headers: ifMatch(d.version) });
  }
  remove(id: string): Observable<void> {
    return this.api.domainsRemove({ path: { domainId: id } }).pipe(map(() => undefined));
  }
}
