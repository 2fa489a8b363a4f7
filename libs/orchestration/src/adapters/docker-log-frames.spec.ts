import { Readable } from 'node:stream';
import { parseLogFrames } from './docker-log-frames';

function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

async function collect(chunks: Buffer[]) {
  const out = [];
  for await (const l of parseLogFrames(Readable.from(chunks))) out.push(l);
  return out;
}

describe('parseLogFrames', () => {
  it('separates stdout and stderr and reads the timestamps', async () => {
    const lines = await collect([
      frame(1, '2024-05-01T10:00:00.123456789Z hello\n'),
      frame(2, '2024-05-01T10:00:01.000000000Z oops "quoted" ünï\n'),
    ]);
    expect(lines).toEqual([
      { stream: 'stdout', line: 'hello', time: new Date('2024-05-01T10:00:00.123Z') },
      { stream: 'stderr', line: 'oops "quoted" ünï', time: new Date('2024-05-01T10:00:01.000Z') },
    ]);
  });

  it('reassembles frames split across chunks, including inside a multi-byte character', () => {
    const whole = Buffer.concat([frame(1, '2024-05-01T10:00:00Z 🚢 ship\n'), frame(2, '2024-05-01T10:00:00Z e\n')]);
    const cut = [whole.subarray(0, 3), whole.subarray(3, 31), whole.subarray(31)];
    return expect(collect(cut)).resolves.toEqual([
      { stream: 'stdout', line: '🚢 ship', time: new Date('2024-05-01T10:00:00Z') },
      { stream: 'stderr', line: 'e', time: new Date('2024-05-01T10:00:00Z') },
    ]);
  });

  it('keeps empty lines and lines without a timestamp', async () => {
    const lines = await collect([frame(1, '2024-05-01T10:00:00Z \n'), frame(1, 'no time here\n')]);
    expect(lines.map((l) => l.line)).toEqual(['', 'no time here']);
    expect(lines[1].time).toBeInstanceOf(Date);
  });
});
