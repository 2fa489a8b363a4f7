import { Component, signal } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { Subject } from 'rxjs';
import type { LiveEvent } from '@wharf/contracts';
import { LiveEvents, LiveMessage } from './live-events';
import { LIVE_SETTLE_MS, liveRefresh } from './live-refresh';

const event = (id: string, type: string, environmentId = 'env-1'): LiveMessage => ({
  kind: 'event',
  event: {
    id, type, occurredAt: '2026-01-01T00:00:00Z', organizationId: 'org-a', subject: { type: 'deployment', id: 'd1', name: null },
    actor: { type: 'system', name: 'system' }, payload: { applicationId: 'app-1', environmentId },
  } as LiveEvent,
});

describe('liveRefresh', () => {
  let stream: Subject<LiveMessage>;
  let watched: string[];
  let calls: number;
  let release: Array<() => void>;

  @Component({ selector: 'w-host', template: '' })
  class Host {
    readonly orgId = signal<string | null>('org-a');
    constructor() {
      liveRefresh(this.orgId, (e) => e.payload.environmentId === 'env-1', () => {
        calls++;
        return new Promise<void>((r) => release.push(r));
      });
    }
  }

  const settle = async () => {
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  const finishAll = async () => {
    while (release.length) {
      release.shift()!();
      await settle();
    }
  };

  beforeEach(() => {
    jest.useFakeTimers();
    stream = new Subject<LiveMessage>();
    watched = [];
    calls = 0;
    release = [];
    TestBed.configureTestingModule({
      providers: [{ provide: LiveEvents, useValue: { watch: (orgId: string) => (watched.push(orgId), stream.asObservable()) } }],
    });
  });
  afterEach(() => jest.useRealTimers());

  function host() {
    const f = TestBed.createComponent(Host);
    f.detectChanges();
    TestBed.tick();
    return f;
  }

  it('refreshes on a relevant event and on resync, not on others', async () => {
    host();
    expect(watched).toEqual(['org-a']);
    stream.next(event('1', 'application.updated', 'env-2'));
    expect(calls).toBe(0);
    stream.next(event('2', 'application.updated'));
    expect(calls).toBe(1);
    await finishAll();
    stream.next({ kind: 'resync' });
    expect(calls).toBe(2);
  });

  it('never overlaps: events during a refresh cause exactly one more', async () => {
    host();
    stream.next(event('1', 'deployment.started'));
    stream.next(event('2', 'deployment.started'));
    stream.next(event('3', 'application.updated'));
    expect(calls).toBe(1);
    await finishAll();
    expect(calls).toBe(2);
    await finishAll();
    expect(calls).toBe(2);
  });

  it('asks once more a moment after a deployment ended (task states are recorded after its event)', async () => {
    host();
    stream.next(event('1', 'deployment.succeeded'));
    await finishAll();
    expect(calls).toBe(1);
    jest.advanceTimersByTime(LIVE_SETTLE_MS - 1);
    expect(calls).toBe(1);
    jest.advanceTimersByTime(1);
    expect(calls).toBe(2);
  });

  it('stops listening when the screen goes away', () => {
    const f = host();
    expect(stream.observed).toBe(true);
    f.destroy();
    expect(stream.observed).toBe(false);
  });
});
