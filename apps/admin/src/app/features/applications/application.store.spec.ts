import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { AbilityBuilder, createMongoAbility } from '@casl/ability';
import { packRules } from '@casl/ability/extra';
import { AbilitiesService } from '../../core/auth/abilities.service';
import { EVENT_SOURCE } from '../../core/live/event-stream';
import { ApplicationStore } from './application.store';

const deploymentsOf = (r: { url: string }) => r.url === '/api/v1/applications/app-1/deployments';
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
    ctl.expectOne(deploymentsOf).flush({ items: [], nextCursor: null });
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
      ctl.expectOne(deploymentsOf).flush({ items: [], nextCursor: null });
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

  it('refreshes on live events about its application (not others), polling fast only while a deployment runs', async () => {
    const sources: Array<{ url: string; emit: (type: string, data: unknown) => void }> = [];
    const listeners = new Map<string, Array<(e: { data?: string }) => void>>();
    const fake = (url: string) => {
      const es = { url, onerror: null, close: () => undefined, addEventListener: (t: string, l: (e: { data?: string }) => void) => listeners.set(t, [...(listeners.get(t) ?? []), l]) };
      sources.push({ url, emit: (t, d) => (listeners.get(t) ?? []).forEach((l) => l({ data: JSON.stringify(d) })) });
      return es;
    };
    TestBed.resetTestingModule();
    TestBed.configureTestingModule({ providers: [provideHttpClient(), provideHttpClientTesting(), ApplicationStore, { provide: EVENT_SOURCE, useValue: fake }] });
    store = TestBed.inject(ApplicationStore);
    ctl = TestBed.inject(HttpTestingController);
    jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick'] });
    const flushStatus = () => ctl.expectOne('/api/v1/applications/app-1/status').flush({ state: 'running', running: 1, desired: 1, tasks: [] });
    const settle = async () => {
      for (let i = 0; i < 5; i++) await Promise.resolve();
    };
    try {
      const opening = store.open('app-1');
      ctl.expectOne('/api/v1/applications/app-1').flush(APP);
      await settle();
      flushStatus();
      await opening;
      ctl.expectOne(deploymentsOf).flush({ items: [{ id: 'd0', status: 'succeeded' }], nextCursor: null });
      await settle();
      expect(store.deploying()).toBe(false);
      expect(sources.map((x) => x.url)).toEqual(['/api/v1/organizations/org-a/events']);
      const ev = (id: string, type: string, applicationId = 'app-1') => ({ id, type, occurredAt: '', organizationId: 'org-a', subject: { type: 'deployment', id: 'd1', name: null }, actor: { type: 'user', name: 'x' }, payload: { applicationId } });
      sources[0].emit('ready', {});

      // The old 3 s poll is gone: nothing within 20 s.
      jest.advanceTimersByTime(20_000);
      ctl.expectNone('/api/v1/applications/app-1/status');

      // Another application's deployment: nothing. Ours starts: the status at once, then every 3 s while it runs.
      sources[0].emit('domain', ev('e1', 'deployment.started', 'app-2'));
      await settle();
      ctl.expectNone('/api/v1/applications/app-1/status');
      sources[0].emit('domain', ev('e2', 'deployment.started'));
      await settle();
      flushStatus();
      expect(store.deploying()).toBe(true);
      expect(store.deploymentsChanged()).toBe(1);
      jest.advanceTimersByTime(3000);
      flushStatus();

      // It succeeded: the application and its status are read again, and the fast poll stops.
      sources[0].emit('domain', ev('e3', 'deployment.succeeded'));
      await settle();
      ctl.expectOne('/api/v1/applications/app-1').flush(APP);
      await settle();
      flushStatus();
      expect(store.deploying()).toBe(false);
      // The worker records the tasks' state a moment later: the short poll settles for 10 s, then stops.
      jest.advanceTimersByTime(3000);
      flushStatus();
      jest.advanceTimersByTime(7000);
      ctl.match('/api/v1/applications/app-1/status').forEach((r) => r.flush({ state: 'running', running: 1, desired: 1, tasks: [] }));
      jest.advanceTimersByTime(15_000);
      ctl.expectNone('/api/v1/applications/app-1/status');
    } finally {
      store.stopPolling();
      jest.useRealTimers();
    }
  });

  it('polls often from the start when opened while a deployment is already running', async () => {
    jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick'] });
    const settle = async () => {
      for (let i = 0; i < 5; i++) await Promise.resolve();
    };
    try {
      const opening = store.open('app-1');
      ctl.expectOne('/api/v1/applications/app-1').flush(APP);
      await settle();
      ctl.expectOne('/api/v1/applications/app-1/status').flush({ state: 'running', running: 1, desired: 1, tasks: [] });
      await opening;
      ctl.expectOne(deploymentsOf).flush({ items: [{ id: 'd1', status: 'running' }, { id: 'd0', status: 'succeeded' }], nextCursor: null });
      await settle();
      expect(store.deploying()).toBe(true);
      jest.advanceTimersByTime(3000);
      ctl.expectOne('/api/v1/applications/app-1/status').flush({ state: 'running', running: 1, desired: 1, tasks: [] });
    } finally {
      store.stopPolling();
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
