import { provideHttpClient } from '@angular/common/http';
import { TestBed } from '@angular/core/testing';
import type { LiveEvent } from '@wharf/contracts';
import { EVENT_SOURCE, EventSourceLike } from './event-stream';
import { LIVE_BACKOFF_MS, LiveEvents, LiveMessage } from './live-events';

class FakeEventSource implements EventSourceLike {
  static all: FakeEventSource[] = [];
  readonly listeners = new Map<string, Array<(e: { data?: string }) => void>>();
  onerror: ((e: unknown) => void) | null = null;
  closed = false;
  constructor(readonly url: string) {
    FakeEventSource.all.push(this);
  }
  addEventListener(type: string, l: (e: { data?: string }) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), l]);
  }
  emit(type: string, data?: unknown): void {
    for (const l of this.listeners.get(type) ?? []) l({ data: data === undefined ? undefined : JSON.stringify(data) });
  }
  close(): void {
    this.closed = true;
  }
}

const event = (id: string, type = 'deployment.succeeded'): LiveEvent => ({
  id, type, occurredAt: '2026-01-01T00:00:00Z', organizationId: 'org-a', subject: { type: 'deployment', id: 'd1', name: null },
  actor: { type: 'system', name: 'system' }, payload: { applicationId: 'app-1' },
});

describe('LiveEvents', () => {
  let live: LiveEvents;
  const open = () => FakeEventSource.all.filter((s) => !s.closed);

  beforeEach(() => {
    FakeEventSource.all = [];
    jest.useFakeTimers();
    TestBed.configureTestingModule({ providers: [provideHttpClient(), { provide: EVENT_SOURCE, useValue: (url: string) => new FakeEventSource(url) }] });
    live = TestBed.inject(LiveEvents);
  });
  afterEach(() => jest.useRealTimers());

  it('opens one EventSource per organization, shared by its watchers, and closes it when the last one leaves', () => {
    const a = live.watch('org-a').subscribe();
    const b = live.watch('org-a').subscribe();
    const other = live.watch('org-b').subscribe();
    expect(FakeEventSource.all.map((s) => s.url)).toEqual(['/api/v1/organizations/org-a/events', '/api/v1/organizations/org-b/events']);
    a.unsubscribe();
    expect(open()).toHaveLength(2);
    b.unsubscribe();
    other.unsubscribe();
    expect(open()).toHaveLength(0);
  });

  it('hands out each event id once (at-least-once delivery), across a reconnect too', () => {
    const seen: LiveMessage[] = [];
    live.watch('org-a').subscribe((m) => seen.push(m));
    const first = FakeEventSource.all[0];
    first.emit('ready', {});
    first.emit('domain', event('e1'));
    first.emit('domain', event('e1'));
    first.emit('domain', event('e2'));
    first.emit('error');
    jest.advanceTimersByTime(LIVE_BACKOFF_MS[0]);
    const second = FakeEventSource.all[1];
    second.emit('ready', {});
    second.emit('domain', event('e2'));
    second.emit('domain', event('e3'));
    expect(seen.map((m) => (m.kind === 'event' ? m.event.id : m.kind))).toEqual(['e1', 'e2', 'resync', 'e3']);
    expect(live.connected()).toBe(true);
  });

  it('reconnects after a drop with a growing backoff, reset once the stream is ready again', () => {
    live.watch('org-a').subscribe();
    const drop = () => FakeEventSource.all.at(-1)!.emit('error');
    drop();
    expect(FakeEventSource.all[0].closed).toBe(true);
    expect(live.connected()).toBe(false);
    jest.advanceTimersByTime(LIVE_BACKOFF_MS[0] - 1);
    expect(FakeEventSource.all).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(FakeEventSource.all).toHaveLength(2);
    drop();
    jest.advanceTimersByTime(LIVE_BACKOFF_MS[1] - 1);
    expect(FakeEventSource.all).toHaveLength(2);
    jest.advanceTimersByTime(1);
    expect(FakeEventSource.all).toHaveLength(3);
    // Ready again: the next drop waits the first step only. A shutdown `end` counts as a drop.
    FakeEventSource.all[2].emit('ready', {});
    FakeEventSource.all[2].emit('end', { reason: 'shutdown' });
    jest.advanceTimersByTime(LIVE_BACKOFF_MS[0]);
    expect(FakeEventSource.all).toHaveLength(4);
    expect(open()).toHaveLength(1);
  });

  it('stops for good when the server says the caller is no longer a member', () => {
    let completed = false;
    live.watch('org-a').subscribe({ complete: () => (completed = true) });
    FakeEventSource.all[0].emit('end', { reason: 'not-a-member' });
    jest.advanceTimersByTime(60_000);
    expect(completed).toBe(true);
    expect(FakeEventSource.all).toHaveLength(1);
    expect(open()).toHaveLength(0);
  });

  it('leaves no timer behind when unsubscribed while waiting to reconnect', () => {
    const sub = live.watch('org-a').subscribe();
    FakeEventSource.all[0].emit('error');
    sub.unsubscribe();
    jest.advanceTimersByTime(60_000);
    expect(FakeEventSource.all).toHaveLength(1);
    expect(jest.getTimerCount()).toBe(0);
  });
});
