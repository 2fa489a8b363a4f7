import { inject, Injectable } from '@angular/core';
import { map, Observable } from 'rxjs';
import { ApiClient } from '../../core/api/api-client.gen';
import { ApiKey, CreatedApiKey, CreatePersonalApiKeyBody } from '../../core/api/api-types';

/** The signed-in user's personal API keys (GET/POST/DELETE /me/api-keys). */
@Injectable({ providedIn: 'root' })
export class MeApi {
  private readonly api = inject(ApiClient);

  /** Active keys only: revoked keys stay in the API's list for the record, the screen shows what still works. */
  apiKeys(): Observable<ApiKey[]> {
    return this.api.meApiKeys().pipe(map((keys) => keys.filter((k) => !k.revokedAt)));
  }
  createApiKey(body: CreatePersonalApiKeyBody): Observable<CreatedApiKey> {
    return this.api.meCreateApiKey({ body });
  }
  revokeApiKey(id: string): Observable<void> {
    return this.api.meRevokeApiKey({ path: { keyId: id } });
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
