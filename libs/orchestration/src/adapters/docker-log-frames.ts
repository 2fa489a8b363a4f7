import type { LogLine } from '../ports/swarm.port';

/**
 * Parses Docker's multiplexed log stream (8-byte frame header: stream type, 3 zero bytes, big-endian length) of a
 * request made with `timestamps=true` into lines. Each frame carries one log message prefixed by an RFC 3339 time.
 */
export async function* parseLogFrames(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<LogLine> {
  let buf: Buffer = Buffer.alloc(0);
  for await (const chunk of chunks) {
    buf = buf.length === 0 ? toBuffer(chunk) : Buffer.concat([buf, toBuffer(chunk)]);
    while (buf.length >= 8) {
      const size = buf.readUInt32BE(4);
      if (buf.length < 8 + size) break;
      const type = buf[0];
      const payload = buf.subarray(8, 8 + size).toString('utf8');
      buf = buf.subarray(8 + size);
      yield* frameLines(type === 2 ? 'stderr' : 'stdout', payload);
    }
  }
}

function* frameLines(stream: 'stdout' | 'stderr', payload: string): Generator<LogLine> {
  let time = new Date();
  let text = payload;
  const m = /^(\d{4}-\d\d-\d\dT\S+) /.exec(payload);
  if (m) {
    const t = new Date(m[1]);
    if (!Number.isNaN(t.getTime())) {
      time = t;
      text = payload.slice(m[0].length);
    }
  }
  if (text.endsWith('\n')) text = text.slice(0, -1);
  for (const line of text.split('\n')) yield { stream, time, line };
}

function toBuffer(chunk: Buffer | string): Buffer {
  return typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
}
