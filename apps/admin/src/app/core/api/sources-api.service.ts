import { inject, Injectable } from '@angular/core';
import { map, Observable } from 'rxjs';
import { ApiClient } from './api-client.gen';
import { ifMatch } from './resources-api.service';
import type { components } from './schema';

type Schemas = components['schemas'];

/** An application's Git source as the API answers it (no token, no private key, no webhook secret). */
export type ApplicationSource = Schemas['ApplicationSourceDto'];
/** The body of PUT …/source: the whole source (a token left out keeps the stored one). */
export type SetSourceBody = Schemas['SetApplicationSourceDto'];
/** One recorded webhook delivery (accepted with its deployment, ignored or rejected with the reason). */
export type WebhookDelivery = Schemas['WebhookDeliveryDto'];

/** The Git source of an application (GET/PUT/DELETE …/source, deploy key, webhook secret, deliveries). */
@Injectable({ providedIn: 'root' })
export class SourcesApi {
  private readonly api = inject(ApiClient);

  get(applicationId: string): Observable<ApplicationSource> {
    return this.api.sourcesGet({ path: { applicationId } });
  }
  /** PUT with If-Match: the version the form was filled from (none when connecting a repository). */
  set(applicationId: string, body: SetSourceBody, version: number | null): Observable<ApplicationSource> {
    return this.api.sourcesSet({ path: { applicationId }, body, headers: ifMatch(version) });
  }
  remove(applicationId: string): Observable<void> {
    return this.api.sourcesRemove({ path: { applicationId } }).pipe(map(() => undefined));
  }
  newDeployKey(applicationId: string): Observable<ApplicationSource> {
    return this.api.sourcesDeployKey({ path: { applicationId } });
  }
  revealSecret(applicationId: string): Observable<string> {
    return this.api.sourcesReveal({ path: { applicationId } }).pipe(map((r) => r.secret));
  }
  rotateSecret(applicationId: string): Observable<string> {
    return this.api.sourcesRotate({ path: { applicationId } }).pipe(map((r) => r.secret));
  }
  deliveries(applicationId: string): Observable<WebhookDelivery[]> {
    return this.api.sourcesDeliveries({ path: { applicationId } });
  }
}
