import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import type { Organization } from '../api/api-types';
import { OrgContext } from './org-context.service';

const org = (id: string, name: string, version = 1): Organization => ({
  id, name, slug: name.toLowerCase(), requireTwoFactor: false, auditRetentionDays: 365, deploymentLogRetentionDays: 30,
  containerPolicy: { allowedBindPaths: [] }, role: 'owner', createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z', version,
});
const tick = () => new Promise((r) => setTimeout(r, 0));

describe('OrgContext', () => {
  let ctx: OrgContext;
  let ctl: HttpTestingController;

  beforeEach(() => {
    TestBed.configureTestingModule({ providers: [provideHttpClient(), provideHttpClientTesting()] });
    ctx = TestBed.inject(OrgContext);
    ctl = TestBed.inject(HttpTestingController);
  });
  afterEach(() => ctl.verify());

  it('creates an organization and reloads the list it now belongs to', async () => {
    const done = ctx.create({ name: 'Beta' });
    const post = ctl.expectOne({ method: 'POST', url: '/api/v1/organizations' });
    expect(post.request.body).toEqual({ name: 'Beta' });
    post.flush(org('b', 'Beta'));
    await tick();
    ctl.expectOne({ method: 'GET', url: '/api/v1/organizations' }).flush([org('a', 'Acme'), org('b', 'Beta')]);
    await expect(done).resolves.toMatchObject({ id: 'b', name: 'Beta' });
    expect(ctx.organizations()?.map((o) => o.name)).toEqual(['Acme', 'Beta']);
  });

  it('reads the ETag of one organization and sends it back as If-Match when renaming', async () => {
    ctx.organizations.set([org('a', 'Acme', 3)]);
    ctx.select('a');
    const fetched = ctx.fetch('a');
    ctl.expectOne('/api/v1/organizations/a').flush(org('a', 'Acme', 4), { headers: { ETag: '"4"' } });
    const { organization, etag } = await fetched;
    expect(etag).toBe('"4"');
    expect(ctx.current()?.version).toBe(4);

    const renamed = ctx.update(organization.id, etag, { name: 'Acme Inc' });
    const patch = ctl.expectOne({ method: 'PATCH', url: '/api/v1/organizations/a' });
    expect(patch.request.headers.get('If-Match')).toBe('"4"');
    expect(patch.request.body).toEqual({ name: 'Acme Inc' });
    patch.flush(org('a', 'Acme Inc', 5));
    await expect(renamed).resolves.toMatchObject({ etag: '"5"', organization: { name: 'Acme Inc' } });
    // The switcher (organizations list) shows the new name without another request.
    expect(ctx.current()?.name).toBe('Acme Inc');
  });

  it('falls back to the version in the body when no ETag is readable', async () => {
    const fetched = ctx.fetch('a');
    ctl.expectOne('/api/v1/organizations/a').flush(org('a', 'Acme', 7));
    await expect(fetched).resolves.toMatchObject({ etag: '"7"' });
  });

  it('passes a 412 (stale If-Match) to the caller and keeps the list as it was', async () => {
    ctx.organizations.set([org('a', 'Acme', 3)]);
    const renamed = ctx.update('a', '"2"', { name: 'Late' });
    ctl.expectOne('/api/v1/organizations/a').flush({ status: 412, code: 'precondition-failed', title: 'Precondition Failed', detail: 'stale', type: 'about:blank', requestId: null }, { status: 412, statusText: 'Precondition Failed' });
    await expect(renamed).rejects.toMatchObject({ status: 412 });
    expect(ctx.organizations()![0].name).toBe('Acme');
  });
});
