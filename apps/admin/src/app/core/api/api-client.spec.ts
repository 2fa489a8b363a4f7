import { DOCUMENT } from '@angular/common';
import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { firstValueFrom } from 'rxjs';
import { authInterceptor } from '../auth/auth.interceptor';
import { ApiClient } from './api-client.gen';

/**
 * The generated client (api-client.gen.ts, `npm run openapi`): the wire requests it makes, and, through
 * `npm run typecheck` (tsc -p apps/admin/tsconfig.spec.json), that a wrong parameter or body does not compile.
 * test/integration/openapi-client.test.ts checks that the file is up to date and that no other portal file builds
 * API URLs by hand.
 */
describe('ApiClient (generated)', () => {
  let api: ApiClient;
  let ctl: HttpTestingController;
  const cookie = 'wharf_csrf=csrf-1';

  beforeEach(() => {
    TestBed.configureTestingModule({
      providers: [
        provideHttpClient(withInterceptors([authInterceptor])),
        provideHttpClientTesting(),
        { provide: DOCUMENT, useFactory: () => ({ get cookie() { return cookie; } }) },
      ],
    });
    api = TestBed.inject(ApiClient);
    ctl = TestBed.inject(HttpTestingController);
  });
  afterEach(() => ctl.verify());

  it('fills the path with encoded parameters and sends the query, the body and typed headers', async () => {
    const done = firstValueFrom(api.projectsUpdate({ path: { id: 'a/b c' }, body: { name: 'N' }, headers: { 'if-match': '"3"' } }));
    const req = ctl.expectOne((r) => r.method === 'PATCH');
    expect(req.request.url).toBe('/api/v1/projects/a%2Fb%20c');
    expect(req.request.body).toEqual({ name: 'N' });
    expect(req.request.headers.get('If-Match')).toBe('"3"');
    req.flush({ id: 'a/b c' });
    await expect(done).resolves.toEqual({ id: 'a/b c' });

    const list = firstValueFrom(api.auditEventsList({ path: { orgId: 'o1' }, query: { limit: 50, actor: 'ann', action: undefined } }));
    const get = ctl.expectOne((r) => r.url === '/api/v1/organizations/o1/audit-events');
    expect(get.request.urlWithParams).toBe('/api/v1/organizations/o1/audit-events?limit=50&actor=ann');
    get.flush({ items: [], nextCursor: null });
    await list;
  });

  it('goes through the interceptors (CSRF header on mutations, refresh and retry on an expired token)', async () => {
    const done = firstValueFrom(api.applicationsDeploy({ path: { applicationId: 'app-1' }, body: { kind: 'deploy' } }));
    const first = ctl.expectOne({ method: 'POST', url: '/api/v1/applications/app-1/deployments' });
    expect(first.request.headers.get('X-CSRF-Token')).toBe('csrf-1');
    first.flush({ code: 'invalid-token' }, { status: 401, statusText: 'Unauthorized' });
    ctl.expectOne({ method: 'POST', url: '/api/v1/auth/refresh' }).flush({});
    ctl.expectOne({ method: 'POST', url: '/api/v1/applications/app-1/deployments' }).flush({ id: 'd1' });
    await expect(done).resolves.toEqual({ id: 'd1' });
  });

  it("answers the whole response with 'response' (to read an ETag)", async () => {
    const done = firstValueFrom(api.organizationsGet({ path: { orgId: 'o1' } }, 'response'));
    ctl.expectOne('/api/v1/organizations/o1').flush({ id: 'o1' }, { headers: { ETag: '"7"' } });
    const res = await done;
    expect(res.headers.get('ETag')).toBe('"7"');
    expect(res.body).toEqual({ id: 'o1' });
  });

  it('builds URLs for what the browser opens itself (event streams, downloads, redirects)', () => {
    expect(api.deploymentsLogsUrl({ path: { deploymentId: 'd 1' }, query: { follow: true } })).toBe('/api/v1/deployments/d%201/logs?follow=true');
    expect(api.applicationsRuntimeLogsUrl({ path: { applicationId: 'a1' }, query: { follow: true, tail: 200, since: undefined } })).toBe('/api/v1/applications/a1/logs?follow=true&tail=200');
    expect(api.auditEventsExportUrl({ path: { orgId: 'o1' }, query: { format: 'csv', actor: 'a&b=c' } })).toBe('/api/v1/organizations/o1/audit-events/export?format=csv&actor=a%26b%3Dc');
    expect(api.oidcAuthStartUrl({ path: { providerId: 'p1' }, query: { returnTo: '/orgs/o1?x=1' } })).toBe('/api/v1/auth/oidc/p1/start?returnTo=%2Forgs%2Fo1%3Fx%3D1');
  });

  it('does not compile a wrong path parameter, query or body (checked by npm run typecheck)', () => {
    // Never called: the body only has to type-check, each line must fail to.
    const wrongUses = (): unknown[] => [
      // @ts-expect-error the path parameter is applicationId
      api.applicationsGet({ path: { id: 'a1' } }),
      // @ts-expect-error the path parameters are required
      api.applicationsGet({}),
      // @ts-expect-error replicas is a number
      api.applicationsScale({ path: { applicationId: 'a1' }, body: { replicas: 'two' } }),
      // @ts-expect-error the deployment kind is 'deploy' or 'redeploy'
      api.applicationsDeploy({ path: { applicationId: 'a1' }, body: { kind: 'launch' } }),
      // @ts-expect-error the export format is required
      api.auditEventsExportUrl({ path: { orgId: 'o1' }, query: {} }),
      // @ts-expect-error outcome is one of succeeded, denied, failed
      api.auditEventsList({ path: { orgId: 'o1' }, query: { outcome: 'ok' } }),
      // @ts-expect-error an operation that does not exist
      api.applicationsLaunch({ path: { applicationId: 'a1' } }),
    ];
    expect(typeof wrongUses).toBe('function');
  });
});
