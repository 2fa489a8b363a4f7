import { EventSourceLike, eventStream } from './event-stream';

class FakeEventSource implements EventSourceLike {
  static last: FakeEventSource;
  readonly listeners = new Map<string, Array<(e: { data?: string }) => void>>();
  onerror: ((e: unknown) => void) | null = null;
  closed = false;
  constructor(readonly url: string) {
    FakeEventSource.last = this;
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
const factory = (url: string) => new FakeEventSource(url);

describe('eventStream', () => {
  it('emits named events with parsed data and completes (closing the source) on `end`', () => {
    const seen: unknown[] = [];
    let done = false;
    eventStream(factory, '/api/v1/deployments/x/logs?follow=true', ['log']).subscribe({ next: (e) => seen.push(e), complete: () => (done = true) });
    const es = FakeEventSource.last;
    expect(es.url).toBe('/api/v1/deployments/x/logs?follow=true');
    es.emit('log', { seq: 1, message: 'hi' });
    es.emit('end', { status: 'succeeded' });
    expect(seen).toEqual([{ event: 'log', data: { seq: 1, message: 'hi' } }, { event: 'end', data: { status: 'succeeded' } }]);
    expect(done).toBe(true);
    expect(es.closed).toBe(true);
  });

  it('errors with the server\'s message, or a generic one when the connection drops; unsubscribing closes', () => {
    let error: Error | null = null;
    eventStream(factory, '/a', ['stdout']).subscribe({ error: (e: Error) => (error = e) });
    FakeEventSource.last.emit('error', { message: 'no such service' });
    expect(error!.message).toBe('no such service');
    expect(FakeEventSource.last.closed).toBe(true);

    eventStream(factory, '/b', ['stdout']).subscribe({ error: (e: Error) => (error = e) });
    FakeEventSource.last.emit('error');
    expect(error!.message).toMatch(/interrupted/);

    const sub = eventStream(factory, '/c', ['stdout']).subscribe();
    sub.unsubscribe();
    expect(FakeEventSource.last.closed).toBe(true);
  });
});
