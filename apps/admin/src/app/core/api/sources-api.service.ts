import type { HttpEvent } from '@angular/common/http';
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
/** The answer to an upload: the source, the stored archive and (with deploy) the queued deployment. */
export type SourceUploadResult = Schemas['SourceUploadResultDto'];
/** An uploaded archive as the source shows it (name, size, sha256, who and when). */
export type SourceUpload = Schemas['SourceUploadDto'];
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
  /**
   * Uploads a source archive as the raw body (the Blob's type is its Content-Type), with progress events; If-Match the
   * source's version when there is one; `deploy` also queues a deployment.
   */
  upload(applicationId: string, archive: Blob, options: { fileName: string; deploy: boolean; version: number | null }): Observable<HttpEvent<SourceUploadResult>> {
    return this.api.sourcesUpload({ path: { applicationId }, query: { filename: options.fileName, ...(options.deploy ? { deploy: true } : {}) }, body: archive, headers: ifMatch(options.version) }, 'events');
  }
  deliveries(applicationId: string): Observable<WebhookDelivery[]> {
    return this.api.sourcesDeliveries({ path: { applicationId } });
  }
}
