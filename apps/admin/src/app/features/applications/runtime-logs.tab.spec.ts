import { provideHttpClient } from '@angular/common/http';
import { provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { Application } from '../../core/api/api-types';
import { EVENT_SOURCE, EventSourceLike } from '../../core/live/event-stream';
import { ApplicationStore } from './application.store';
import { RuntimeLogsTab } from './runtime-logs.tab';

const APP = { id: 'app-1', organizationId: 'org-a', projectId: 'p-1', environmentId: 'e-1', name: 'web', slug: 'web', spec: { image: 'nginx:1' }, version: 1 } as unknown as Application;

/** A fake EventSource whose events the test sends. */
class FakeSource implements EventSourceLike {
  onerror: ((e: unknown) => void) | null = null;
  readonly listeners = new Map<string, Array<(e: { data?: string }) => void>>();
  addEventListener(type: string, l: (e: { data?: string }) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), l]);
  }
  close(): void {
    /* nothing to close */
  }
  emit(type: string, data: unknown): void {
    for (const l of this.listeners.get(type) ?? []) l({ data: JSON.stringify(data) });
  }
}

/** jsdom lays nothing out: the log box gets a fixed height, a content height that grows with its lines and a scrollTop. */
function fakeLayout(el: HTMLElement): { top: () => number; setTop: (v: number) => void } {
  let top = 0;
  Object.defineProperty(el, 'clientHeight', { configurable: true, get: () => 100 });
  Object.defineProperty(el, 'scrollHeight', { configurable: true, get: () => el.querySelectorAll('span').length * 20 });
  Object.defineProperty(el, 'scrollTop', { configurable: true, get: () => top, set: (v: number) => (top = Math.max(0, Math.min(v, el.scrollHeight - 100))) });
  return { top: () => top, setTop: (v) => (top = v) };
}

describe('RuntimeLogsTab follows the end of the log', () => {
  let source: FakeSource;
  let n = 0;
  const line = () => ({ time: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(), stream: 'stdout', line: `line ${n++}` });

  beforeEach(() => {
    source = new FakeSource();
    n = 0;
    TestBed.configureTestingModule({ providers: [provideHttpClient(), provideHttpClientTesting(), ApplicationStore, { provide: EVENT_SOURCE, useValue: () => source }] });
    TestBed.inject(ApplicationStore).app.set(APP);
  });

  it('keeps the newest line in view, stops when the user scrolls up (offering "Jump to latest"), and jumps back', async () => {
    const fixture = TestBed.createComponent(RuntimeLogsTab);
    fixture.autoDetectChanges();
    await fixture.whenStable();
    await new Promise((r) => queueMicrotask(() => r(null)));
    const el = fixture.nativeElement as HTMLElement;
    const log = el.querySelector<HTMLElement>('[data-testid="runtime-log"]')!;
    const box = fakeLayout(log);
    const jump = () => Array.from(el.querySelectorAll('button')).find((b) => b.textContent?.trim() === 'Jump to latest');

    for (let i = 0; i < 30; i++) source.emit('stdout', line());
    await fixture.whenStable();
    expect(log.querySelectorAll('span')).toHaveLength(30);
    expect(box.top()).toBe(30 * 20 - 100);
    expect(jump()).toBeUndefined();

    // The user scrolls up to read: new lines no longer move the view.
    box.setTop(100);
    log.dispatchEvent(new Event('scroll'));
    source.emit('stdout', line());
    await fixture.whenStable();
    expect(log.querySelectorAll('span')).toHaveLength(31);
    expect(box.top()).toBe(100);
    expect(jump()).toBeDefined();

    jump()!.click();
    await fixture.whenStable();
    expect(box.top()).toBe(31 * 20 - 100);
    expect(jump()).toBeUndefined();
    source.emit('stdout', line());
    await fixture.whenStable();
    expect(box.top()).toBe(32 * 20 - 100);
    fixture.destroy();
  });
});
