import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { computed } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { AbilityBuilder, createMongoAbility } from '@casl/ability';
import { packRules } from '@casl/ability/extra';
import { AbilitiesService } from './abilities.service';

/** Packs rules the way the API does (GET /me/abilities): conditions carry the organization. */
function packed(build: (can: AbilityBuilder<ReturnType<typeof createMongoAbility>>['can']) => void) {
  const b = new AbilityBuilder(createMongoAbility);
  build(b.can);
  return packRules(b.build().rules) as never[];
}

describe('AbilitiesService', () => {
  let svc: AbilitiesService;
  let ctl: HttpTestingController;

  beforeEach(() => {
    TestBed.configureTestingModule({ providers: [provideHttpClient(), provideHttpClientTesting()] });
    svc = TestBed.inject(AbilitiesService);
    ctl = TestBed.inject(HttpTestingController);
  });
  afterEach(() => ctl.verify());

  it('loads packed rules from /me/abilities and checks them per organization', async () => {
    const loading = svc.load();
    ctl.expectOne('/api/v1/me/abilities').flush({
      rules: packed((can) => {
        can('read', 'invitation', { organizationId: 'org-a' });
        can('create', 'invitation', { organizationId: 'org-a' });
        can('read', 'invitation', { organizationId: 'org-b' });
        can('update', 'organization', { id: 'org-a' });
      }),
    });
    await loading;
    expect(svc.loaded()).toBe(true);
    expect(svc.can('create', 'invitation', 'org-a')).toBe(true);
    expect(svc.can('create', 'invitation', 'org-b')).toBe(false);
    expect(svc.can('read', 'invitation', 'org-b')).toBe(true);
    expect(svc.can('update', 'organization', 'org-a')).toBe(true);
    expect(svc.can('update', 'organization', 'org-b')).toBe(false);
    expect(svc.can('delete', 'member', 'org-a')).toBe(false);
    expect(svc.can('read', 'invitation', null)).toBe(false);
  });

  it('honours project limits in the conditions', () => {
    svc.setPackedRules(packed((can) => can('update', 'project', { organizationId: 'o', id: { $in: ['p1'] } })));
    expect(svc.can('update', 'project', 'o', { id: 'p1' })).toBe(true);
    expect(svc.can('update', 'project', 'o', { id: 'p2' })).toBe(false);
  });

  it('is reactive: computed values follow new rules and clear()', () => {
    const canInvite = TestBed.runInInjectionContext(() => computed(() => svc.can('create', 'invitation', 'o')));
    expect(canInvite()).toBe(false);
    svc.setPackedRules(packed((can) => can('create', 'invitation', { organizationId: 'o' })));
    expect(canInvite()).toBe(true);
    svc.clear();
    expect(canInvite()).toBe(false);
    expect(svc.loaded()).toBe(false);
  });
});
