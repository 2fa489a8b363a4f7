import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { ActivatedRouteSnapshot, provideRouter, Router, RouterStateSnapshot, UrlTree } from '@angular/router';
import { authGuard, guestGuard, setupGuard } from './auth.guards';

/** Lets the guard's awaits run, so that its next request is issued. */
const settle = () => new Promise((r) => setTimeout(r));
const run = (guard: typeof authGuard, url: string) =>
  TestBed.runInInjectionContext(() => guard({} as ActivatedRouteSnapshot, { url } as RouterStateSnapshot)) as Promise<boolean | UrlTree>;

describe('auth guards', () => {
  let ctl: HttpTestingController;
  let router: Router;

  beforeEach(() => {
    TestBed.configureTestingModule({ providers: [provideRouter([]), provideHttpClient(), provideHttpClientTesting()] });
    ctl = TestBed.inject(HttpTestingController);
    router = TestBed.inject(Router);
  });
  afterEach(() => ctl.verify());

  it('authGuard sends a signed-out visitor to /login with the page to come back to', async () => {
    const result = run(authGuard, '/orgs/o1/settings/members');
    ctl.expectOne('/api/v1/me').flush({ code: 'unauthenticated' }, { status: 401, statusText: 'Unauthorized' });
    await settle();
    ctl.expectOne('/api/v1/auth/setup').flush({ needed: false });
    const tree = await result;
    expect(tree).toBeInstanceOf(UrlTree);
    expect(router.serializeUrl(tree as UrlTree)).toBe('/login?returnUrl=%2Forgs%2Fo1%2Fsettings%2Fmembers');
  });

  it('authGuard lets a signed-in user through and asks the API only once', async () => {
    const first = run(authGuard, '/');
    ctl.expectOne('/api/v1/me').flush({ kind: 'user', user: { id: 'u1', email: 'a@b.c', name: 'A' }, memberships: [] });
    await expect(first).resolves.toBe(true);
    await expect(run(authGuard, '/profile')).resolves.toBe(true);
    ctl.expectNone('/api/v1/me');
  });

  it('guestGuard sends a signed-in user away from /login', async () => {
    const result = run(guestGuard, '/login');
    ctl.expectOne('/api/v1/me').flush({ kind: 'user', user: { id: 'u1' }, memberships: [] });
    expect(router.serializeUrl((await result) as UrlTree)).toBe('/');
  });

  it('guestGuard shows /login to a visitor', async () => {
    const result = run(guestGuard, '/login');
    ctl.expectOne('/api/v1/me').flush({ code: 'unauthenticated' }, { status: 401, statusText: 'Unauthorized' });
    await expect(result).resolves.toBe(true);
  });

  it('authGuard opens /setup on a fresh install (nobody can sign in yet)', async () => {
    const result = run(authGuard, '/');
    ctl.expectOne('/api/v1/me').flush({ code: 'unauthenticated' }, { status: 401, statusText: 'Unauthorized' });
    await settle();
    ctl.expectOne('/api/v1/auth/setup').flush({ needed: true });
    expect(router.serializeUrl((await result) as UrlTree)).toBe('/setup');
  });

  it('setupGuard shows /setup while it is needed and sends to /login once set up', async () => {
    const open = run(setupGuard, '/setup');
    ctl.expectOne('/api/v1/auth/setup').flush({ needed: true });
    await expect(open).resolves.toBe(true);
    const done = run(setupGuard, '/setup');
    ctl.expectOne('/api/v1/auth/setup').flush({ needed: false });
    expect(router.serializeUrl((await done) as UrlTree)).toBe('/login');
  });
});
