import type { LogLine, ServiceLogsOptions } from '@wharf/orchestration';

type ReadLogs = (options: ServiceLogsOptions) => AsyncIterable<LogLine>;

/** Stable sort by Docker's timestamp: lines of one task keep their order, lines of several tasks interleave by time. */
export function byTime(lines: LogLine[]): LogLine[] {
  return lines
    .map((l, i) => ({ l, i }))
    .sort((a, b) => a.l.time.getTime() - b.l.time.getTime() || a.i - b.i)
    .map((x) => x.l);
}

const keyOf = (l: LogLine) => `${l.time.getTime()}\u0000${l.stream}\u0000${l.line}`;

/**
 * A service's logs in time order. Docker answers a service's log request task by task (each task's lines together),
 * so the backlog (tail/since) is read whole and merged by timestamp; when following, the live part is then read from
 * the last backlog line's time on, without repeating the lines of that millisecond that were already sent.
 */
export async function* timeOrderedLogs(read: ReadLogs, options: ServiceLogsOptions): AsyncGenerator<LogLine> {
  const { follow, signal } = options;
  const startedAt = new Date();
  const backlog: LogLine[] = [];
  for await (const l of read({ ...options, follow: false })) backlog.push(l);
  const sorted = byTime(backlog);
  yield* sorted;
  if (!follow || signal?.aborted) return;
  const last = sorted[sorted.length - 1];
  const since = last ? last.time : startedAt;
  const sent = new Map<string, number>();
  for (const l of sorted) if (l.time.getTime() === since.getTime()) sent.set(keyOf(l), (sent.get(keyOf(l)) ?? 0) + 1);
  for await (const l of read({ since, follow: true, signal })) {
    if (l.time.getTime() < since.getTime()) continue;
    const k = keyOf(l);
    const n = sent.get(k);
    if (n) {
      if (n === 1) sent.delete(k);
      else sent.set(k, n - 1);
      continue;
    }
    yield l;
  }
}
