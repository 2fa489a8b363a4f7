import { HttpClient } from '@angular/common/http';
import { inject, Injectable } from '@angular/core';
import { map, Observable } from 'rxjs';
import { API, ApiKey, CreatedApiKey, CreatePersonalApiKeyBody } from '../../core/api/api-types';

/** The signed-in user's personal API keys (GET/POST/DELETE /me/api-keys). */
@Injectable({ providedIn: 'root' })
export class MeApi {
  private readonly http = inject(HttpClient);

  /** Active keys only: revoked keys stay in the API's list for the record, the screen shows what still works. */
  apiKeys(): Observable<ApiKey[]> {
    return this.http.get<ApiKey[]>(`${API}/me/api-keys`).pipe(map((keys) => keys.filter((k) => !k.revokedAt)));
  }
  createApiKey(body: CreatePersonalApiKeyBody): Observable<CreatedApiKey> {
    return this.http.post<CreatedApiKey>(`${API}/me/api-keys`, body);
  }
  revokeApiKey(id: string): Observable<void> {
    return this.http.delete<void>(`${API}/me/api-keys/${encodeURIComponent(id)}`);
  }
}

/**
 * The request body from the form: blank expiry = never; a date (yyyy-mm-dd) expires at the end of that day in UTC;
 * organization '' = every organization the user belongs to.
 */
export function personalKeyBody(v: { name: string; scopes: CreatePersonalApiKeyBody['scopes']; expiresOn: string; organizationId: string }): CreatePersonalApiKeyBody {
  return {
    name: v.name.trim(),
    scopes: v.scopes,
    ...(v.expiresOn ? { expiresAt: new Date(`${v.expiresOn}T23:59:59.000Z`).toISOString() } : {}),
    ...(v.organizationId ? { organizationId: v.organizationId } : {}),
  };
}
