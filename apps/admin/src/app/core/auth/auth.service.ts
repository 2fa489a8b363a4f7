import { HttpErrorResponse } from '@angular/common/http';
import { computed, inject, Injectable, signal } from '@angular/core';
import { firstValueFrom } from 'rxjs';
import { ApiClient } from '../api/api-client.gen';
import { LoginBody, Me, SetupBody, SetupResult } from '../api/api-types';

/** Thrown by `login` when the account has 2FA and no code was given (the API's 401 `totp-required`). */
export class TotpRequired extends Error {
  constructor() {
    super('totp-required');
  }
}

/** Who is signed in. `me()` is undefined until the first check, then the user or null. */
@Injectable({ providedIn: 'root' })
export class AuthService {
  private readonly api = inject(ApiClient);
  private readonly state = signal<Me | null | undefined>(undefined);
  private pending: Promise<Me | null> | null = null;

  readonly me = this.state.asReadonly();
  readonly user = computed(() => this.state()?.user ?? null);
  readonly signedIn = computed(() => !!this.state());
  private readonly setupState = signal<boolean | undefined>(undefined);
  /** Whether first-run setup is still needed: undefined until asked, then what the API said. */
  readonly setupNeeded = this.setupState.asReadonly();

  /** Asks the public GET /auth/setup once; after a completed setup it stays false. */
  async checkSetup(): Promise<boolean> {
    const known = this.setupState();
    if (known === false) return false;
    const r = await firstValueFrom(this.api.authSetupStatus());
    this.setupState.set(r.needed);
    return r.needed;
  }

  /** Asks the API once (GET /me) and remembers the answer; later calls return it. */
  ensureLoaded(): Promise<Me | null> {
    const known = this.state();
    if (known !== undefined) return Promise.resolve(known);
    return (this.pending ??= this.reload().finally(() => (this.pending = null)));
  }

  async reload(): Promise<Me | null> {
    try {
      const me = await firstValueFrom(this.api.meMe());
      this.state.set(me);
      return me;
    } catch (e) {
      if (e instanceof HttpErrorResponse && e.status === 401) {
        this.state.set(null);
        return null;
      }
      throw e;
    }
  }

  async login(body: LoginBody): Promise<Me | null> {
    try {
      await firstValueFrom(this.api.authLogin({ body }));
    } catch (e) {
      if (e instanceof HttpErrorResponse && e.status === 401 && (e.error as { code?: string } | null)?.code === 'totp-required') throw new TotpRequired();
      throw e;
    }
    return this.reload();
  }

  async setup(body: SetupBody): Promise<SetupResult> {
    const r = await firstValueFrom(this.api.authSetup({ body }));
    this.setupState.set(false);
    await this.reload();
    return r;
  }

  async logout(): Promise<void> {
    try {
      await firstValueFrom(this.api.authLogout());
    } finally {
      this.state.set(null);
    }
  }

  /** Forgets the session locally (after the API said it is gone). */
  clear(): void {
    this.state.set(null);
  }
}
