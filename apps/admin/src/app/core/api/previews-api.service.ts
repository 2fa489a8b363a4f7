import { inject, Injectable } from '@angular/core';
import { Observable } from 'rxjs';
import { ApiClient } from './api-client.gen';
import { ifMatch } from './resources-api.service';
import type { components } from './schema';

type Schemas = components['schemas'];

/** One pull request preview (state, head commit, URL, the preview application and its last deployment). */
export type Preview = Schemas['PreviewDto'];
/** An application's preview settings (secret overrides come back without their value). */
export type PreviewSettings = Schemas['PreviewSettingsDto'];
/** The body of PUT …/previews/settings: the whole settings (a secret override without a value keeps the stored one). */
export type SetPreviewSettingsBody = Schemas['SetPreviewSettingsDto'];

/** Pull request previews of an application (GET …/previews, settings, approve). */
@Injectable({ providedIn: 'root' })
export class PreviewsApi {
  private readonly api = inject(ApiClient);

  list(applicationId: string): Observable<Preview[]> {
    return this.api.previewsList({ path: { applicationId } });
  }
  settings(applicationId: string): Observable<PreviewSettings> {
    return this.api.previewsSettings({ path: { applicationId } });
  }
  /** PUT with If-Match: the version the form was filled from (0 before the first save). */
  setSettings(applicationId: string, body: SetPreviewSettingsBody, version: number): Observable<PreviewSettings> {
    return this.api.previewsSetSettings({ path: { applicationId }, body, headers: ifMatch(version) });
  }
  /** Approves exactly `commit` (the head the member reviewed): a 409 when the pull request moved on. */
  approve(applicationId: string, number: number, commit: string): Observable<Preview> {
    return this.api.previewsApprove({ path: { applicationId, number }, body: { commit } });
  }
}
