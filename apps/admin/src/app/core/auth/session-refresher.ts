import { inject, Injectable } from '@angular/core';
import { finalize, map, Observable, shareReplay } from 'rxjs';
import { ApiClient } from '../api/api-client.gen';

/** One POST /auth/refresh at a time: concurrent 401s wait for the same refresh (the refresh token rotates). */
@Injectable({ providedIn: 'root' })
export class SessionRefresher {
  private readonly api = inject(ApiClient);
  private inFlight: Observable<void> | null = null;

  refresh(): Observable<void> {
    this.inFlight ??= this.api.authRefresh({ body: {} }).pipe(
      map(() => undefined),
      finalize(() => (this.inFlight = null)),
      shareReplay({ bufferSize: 1, refCount: false }),
    );
    return this.inFlight;
  }
}
