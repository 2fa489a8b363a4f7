import type { LogLine, ServiceLogsOptions } from '@wharf/orchestration';
import { timeOrderedLogs } from './time-ordered-logs';

const at = (ms: number, line: string, stream: 'stdout' | 'stderr' = 'stdout'): LogLine => ({ stream, line, time: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, ms)) });

async function collect(it: AsyncIterable<LogLine>): Promise<string[]> {
  const out: string[] = [];
  for await (const l of it) out.push(l.line);
  return out;
}

describe('timeOrderedLogs', () => {
  it('merges the backlog of several tasks (Docker sends them task by task) by timestamp, keeping each task in order', async () => {
    const calls: ServiceLogsOptions[] = [];
    // Task A's lines, then task B's: what the engine answers for a 2-replica service.
    const read = async function* (o: ServiceLogsOptions) {
      calls.push(o);
      yield* [at(10, 'a1'), at(30, 'a2'), at(30, 'a3'), at(50, 'a4'), at(20, 'b1'), at(40, 'b2'), at(60, 'b3')];
    };
    expect(await collect(timeOrderedLogs(read, { tail: 200 }))).toEqual(['a1', 'b1', 'a2', 'a3', 'b2', 'a4', 'b3']);
    expect(calls).toEqual([{ tail: 200, follow: false }]);
  });

  it('when following, continues from the last backlog time without repeating the lines already sent', async () => {
    const calls: ServiceLogsOptions[] = [];
    const read = async function* (o: ServiceLogsOptions) {
      calls.push(o);
      if (!o.follow) yield* [at(10, 'a1'), at(30, 'a2'), at(20, 'b1')];
      else yield* [at(30, 'a2'), at(30, 'b2'), at(40, 'a3')];
    };
    expect(await collect(timeOrderedLogs(read, { tail: 5, follow: true }))).toEqual(['a1', 'b1', 'a2', 'b2', 'a3']);
    expect(calls[1]).toMatchObject({ follow: true, since: at(30, '').time });
    expect(calls[1].tail).toBeUndefined();
  });
});
