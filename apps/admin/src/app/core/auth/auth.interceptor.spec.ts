import { HttpClient, provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { DOCUMENT } from '@angular/common';
import { TestBed } from '@angular/core/testing';
import { firstValueFrom } from 'rxjs';
import { authInterceptor } from './auth.interceptor';

describe('authInterceptor', () => {
  let http: HttpClient;
  let ctl: HttpTestingController;
  let cookie = '';

  beforeEach(() => {
    cookie = 'wharf_csrf=csrf-1; other=x';
    TestBed.configureTestingModule({
      providers: [
        provideHttpClient(withInterceptors([authInterceptor])),
        provideHttpClientTesting(),
        // A document whose cookies the test controls (the real jsdom one would also work, but this is explicit).
        { provide: DOCUMENT, useFactory: () => ({ get cookie() { return cookie; } }) },
      ],
    });
    http = TestBed.inject(HttpClient);
    ctl = TestBed.inject(HttpTestingController);
  });
  afterEach(() => ctl.verify());

  it('copies the CSRF cookie into X-CSRF-Token on mutations only', async () => {
    const post = firstValueFrom(http.post('/api/v1/organizations', { name: 'x' }));
    const p = ctl.expectOne('/api/v1/organizations');
    expect(p.request.headers.get('X-CSRF-Token')).toBe('csrf-1');
    p.flush({ id: 'o1' });
    await post;

    const get = firstValueFrom(http.get('/api/v1/me'));
    const g = ctl.expectOne('/api/v1/me');
    expect(g.request.headers.has('X-CSRF-Token')).toBe(false);
    g.flush({});
    await get;
  });

  it('does not touch requests outside the API', async () => {
    const r = firstValueFrom(http.post('/elsewhere', {}));
    const req = ctl.expectOne('/elsewhere');
    expect(req.request.headers.has('X-CSRF-Token')).toBe(false);
    req.flush({});
    await r;
  });

  it('refreshes once on 401 invalid-token and retries with the new CSRF token', async () => {
    const result = firstValueFrom(http.delete('/api/v1/organizations/o1/invitations/i1'));
    ctl.expectOne('/api/v1/organizations/o1/invitations/i1').flush({ code: 'invalid-token', status: 401 }, { status: 401, statusText: 'Unauthorized' });
    const refresh = ctl.expectOne('/api/v1/auth/refresh');
    expect(refresh.request.method).toBe('POST');
    cookie = 'wharf_csrf=csrf-2';
    refresh.flush({ accessToken: 'a', refreshToken: 'r' });
    const retry = ctl.expectOne('/api/v1/organizations/o1/invitations/i1');
    expect(retry.request.headers.get('X-CSRF-Token')).toBe('csrf-2');
    retry.flush(null, { status: 204, statusText: 'No Content' });
    await expect(result).resolves.toBeNull();
  });

  it('shares one refresh between concurrent 401s', async () => {
    const a = firstValueFrom(http.get('/api/v1/me'));
    const b = firstValueFrom(http.get('/api/v1/organizations'));
    ctl.expectOne('/api/v1/me').flush({ code: 'invalid-token' }, { status: 401, statusText: 'Unauthorized' });
    ctl.expectOne('/api/v1/organizations').flush({ code: 'unauthenticated' }, { status: 401, statusText: 'Unauthorized' });
    ctl.expectOne('/api/v1/auth/refresh').flush({});
    ctl.expectOne('/api/v1/me').flush({ user: null });
    ctl.expectOne('/api/v1/organizations').flush([]);
    await expect(a).resolves.toEqual({ user: null });
    await expect(b).resolves.toEqual([]);
  });

  it('gives up with the original error when the refresh fails, and never loops', async () => {
    const result = firstValueFrom(http.get('/api/v1/me'));
    ctl.expectOne('/api/v1/me').flush({ code: 'invalid-token' }, { status: 401, statusText: 'Unauthorized' });
    ctl.expectOne('/api/v1/auth/refresh').flush({ code: 'refresh-token-reused' }, { status: 401, statusText: 'Unauthorized' });
    await expect(result).rejects.toMatchObject({ status: 401, error: { code: 'invalid-token' } });
    ctl.expectNone('/api/v1/auth/refresh');
  });

  it('never refreshes for auth endpoints or other 401 codes (wrong password, TOTP needed)', async () => {
    const login = firstValueFrom(http.post('/api/v1/auth/login', {}));
    ctl.expectOne('/api/v1/auth/login').flush({ code: 'totp-required' }, { status: 401, statusText: 'Unauthorized' });
    await expect(login).rejects.toMatchObject({ status: 401 });
    const other = firstValueFrom(http.get('/api/v1/me'));
    ctl.expectOne('/api/v1/me').flush({ code: 'api-key-revoked' }, { status: 401, statusText: 'Unauthorized' });
    await expect(other).rejects.toMatchObject({ status: 401 });
    ctl.expectNone('/api/v1/auth/refresh');
  });
});
