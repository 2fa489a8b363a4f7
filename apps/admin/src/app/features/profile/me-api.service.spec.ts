import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { firstValueFrom } from 'rxjs';
import type { ApiKey } from '../../core/api/api-types';
import { MeApi, personalKeyBody } from './me-api.service';

const key = (id: string, revokedAt: string | null = null): ApiKey => ({
  id, name: id, prefix: 'abcd1234', kind: 'personal', organizationId: null, role: null, customRoleId: null, scopes: ['read'],
  expiresAt: null, lastUsedAt: null, createdAt: '2026-01-01T00:00:00Z', revokedAt,
});

describe('MeApi (personal API keys)', () => {
  let api: MeApi;
  let ctl: HttpTestingController;

  beforeEach(() => {
    TestBed.configureTestingModule({ providers: [provideHttpClient(), provideHttpClientTesting()] });
    api = TestBed.inject(MeApi);
    ctl = TestBed.inject(HttpTestingController);
  });
  afterEach(() => ctl.verify());

  it('lists only keys that still work', async () => {
    const list = firstValueFrom(api.apiKeys());
    ctl.expectOne({ method: 'GET', url: '/api/v1/me/api-keys' }).flush([key('live'), key('gone', '2026-02-01T00:00:00Z')]);
    await expect(list).resolves.toEqual([key('live')]);
  });

  it('creates a key (returned once with its secret) and revokes one', async () => {
    const created = firstValueFrom(api.createApiKey({ name: 'laptop', scopes: ['read', 'deploy'] }));
    const post = ctl.expectOne({ method: 'POST', url: '/api/v1/me/api-keys' });
    expect(post.request.body).toEqual({ name: 'laptop', scopes: ['read', 'deploy'] });
    post.flush({ ...key('k1'), key: 'wk_abcd1234_secret' });
    await expect(created).resolves.toMatchObject({ key: 'wk_abcd1234_secret' });

    const revoked = firstValueFrom(api.revokeApiKey('k1'));
    ctl.expectOne({ method: 'DELETE', url: '/api/v1/me/api-keys/k1' }).flush(null, { status: 204, statusText: 'No Content' });
    await expect(revoked).resolves.toBeNull();
  });

  it('builds the body: no expiry and every organization by default', () => {
    expect(personalKeyBody({ name: ' ci ', scopes: ['read'], expiresOn: '', organizationId: '' })).toEqual({ name: 'ci', scopes: ['read'] });
    expect(personalKeyBody({ name: 'ci', scopes: ['write'], expiresOn: '2030-05-01', organizationId: 'org-a' })).toEqual({
      name: 'ci', scopes: ['write'], expiresAt: '2030-05-01T23:59:59.000Z', organizationId: 'org-a',
    });
  });
});
