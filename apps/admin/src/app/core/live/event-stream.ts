import { InjectionToken } from '@angular/core';
import { Observable } from 'rxjs';

/** One Server-Sent Event: its `event:` name and its JSON `data:`. */
export interface StreamEvent<T = unknown> {
  event: string;
  data: T;
}

/** The slice of EventSource the portal uses (a fake in unit tests). */
export interface EventSourceLike {
  addEventListener(type: string, listener: (e: { data?: string }) => void): void;
  close(): void;
  onerror: ((e: unknown) => void) | null;
}
export type EventSourceFactory = (url: string) => EventSourceLike;

/** How the portal opens a stream: a same-origin EventSource, so the session cookies go along (no token in the URL). */
export const EVENT_SOURCE = new InjectionToken<EventSourceFactory>('EVENT_SOURCE', {
  providedIn: 'root',
  factory: () => (url: string) => new EventSource(url, { withCredentials: true }) as unknown as EventSourceLike,
});

/**
 * An SSE endpoint as an Observable of named events. `end` completes it; `error` events (sent by the server) and a
 * broken connection error it. Unsubscribing closes the EventSource (the server stops following).
 */
export function eventStream<T>(factory: EventSourceFactory, url: string, events: readonly string[]): Observable<StreamEvent<T>> {
  return new Observable<StreamEvent<T>>((sub) => {
    const es = factory(url);
    const parse = (raw: string | undefined): unknown => {
      try {
        return raw ? JSON.parse(raw) : {};
      } catch {
        return raw;
      }
    };
    for (const name of events) es.addEventListener(name, (e) => sub.next({ event: name, data: parse(e.data) as T }));
    es.addEventListener('end', (e) => {
      sub.next({ event: 'end', data: parse(e.data) as T });
      es.close();
      sub.complete();
    });
    es.addEventListener('error', (e) => {
      // A server-sent `event: error` carries data; a dropped connection does not (EventSource would retry forever).
      es.close();
      const detail = parse(e?.data) as { message?: string } | undefined;
      sub.error(new Error(detail?.message ?? 'The live stream was interrupted.'));
    });
    return () => es.close();
  });
}
