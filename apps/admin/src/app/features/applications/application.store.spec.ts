import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { AbilityBuilder, createMongoAbility } from '@casl/ability';
import { packRules } from '@casl/ability/extra';
import { AbilitiesService } from '../../core/auth/abilities.service';
import { ApplicationStore } from './application.store';

const APP = { id: 'app-1', organizationId: 'org-a', projectId: 'p-1', environmentId: 'e-1', name: 'web', slug: 'web', spec: { image: 'x' }, version: 1 };

describe('ApplicationStore', () => {
  let store: ApplicationStore;
  let ctl: HttpTestingController;

  beforeEach(() => {
    TestBed.configureTestingModule({ providers: [provideHttpClient(), provideHttpClientTesting(), ApplicationStore] });
    store = TestBed.inject(ApplicationStore);
    ctl = TestBed.inject(HttpTestingController);
  });
  afterEach(() => {
    store.stopPolling();
    ctl.verify();
  });

  it('loads the application and its Swarm status, and derives what the user may do', async () => {
    const b = new AbilityBuilder(createMongoAbility);
    b.can('read', 'application', { organizationId: 'org-a' });
    b.can('deploy', 'application', { organizationId: 'org-a', projectId: 'p-1' });
    TestBed.inject(AbilitiesService).setPackedRules(packRules(b.build().rules) as never[]);

    const opening = store.open('app-1', 60_000);
    ctl.expectOne('/api/v1/applications/app-1').flush(APP);
    await Promise.resolve();
    await Promise.resolve();
    ctl.expectOne('/api/v1/applications/app-1/status').flush({ state: 'running', running: 1, desired: 1, tasks: [] });
    await opening;
    expect(store.app()?.name).toBe('web');
    expect(store.status()?.state).toBe('running');
    expect(store.canDeploy()).toBe(true);
    expect(store.canDelete()).toBe(false);
    expect(store.canUpdate()).toBe(false);
  });

  it('stops polling and reports the application deleted when its status answers 404', async () => {
    jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick'] });
    try {
      const opening = store.open('app-1', 1000);
      ctl.expectOne('/api/v1/applications/app-1').flush(APP);
      await Promise.resolve();
      await Promise.resolve();
      ctl.expectOne('/api/v1/applications/app-1/status').flush({ state: 'running', running: 1, desired: 1, tasks: [] });
      await opening;
      jest.advanceTimersByTime(1000);
      ctl.expectOne('/api/v1/applications/app-1/status').flush({ type: 'x', title: 'Not found', status: 404, detail: 'no', code: 'not-found', requestId: null }, { status: 404, statusText: 'Not Found' });
      await Promise.resolve();
      await Promise.resolve();
      expect(store.deleted()).toBe(true);
      expect(store.problem()).toBeNull();
      jest.advanceTimersByTime(5000);
      ctl.expectNone('/api/v1/applications/app-1/status');
    } finally {
      jest.useRealTimers();
    }
  });

  it('keeps the problem when the application cannot be read', async () => {
    const opening = store.open('nope', 60_000);
    ctl.expectOne('/api/v1/applications/nope').flush({ type: 'x', title: 'Not found', status: 404, detail: 'no', code: 'not-found', requestId: null }, { status: 404, statusText: 'Not Found' });
    await opening;
    expect(store.problem()?.code).toBe('not-found');
    expect(store.app()).toBeNull();
  });
});
