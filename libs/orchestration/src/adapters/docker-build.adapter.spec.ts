import { createServer, type Server, type Socket } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageBuildError, type ImageBuildInput } from '../ports/image-builder.port';
import { checkBuildInput, createdKey, DockerBuildAdapter } from './docker-build.adapter';

const base = (over: Partial<ImageBuildInput> = {}): ImageBuildInput => ({
  contextDir: '/nonexistent',
  dockerfile: 'Dockerfile',
  buildArgs: {},
  tags: ['wharf/app:dep-1'],
  labels: { 'wharf.install': 'i', 'wharf.application': 'a', 'wharf.deployment': 'd' },
  deadlineMs: 1000,
  onLog: () => undefined,
  ...over,
});

function reason(fn: () => void): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof ImageBuildError ? e.reason : String(e);
  }
  return undefined;
}

describe('checkBuildInput', () => {
  test('accepts ordinary references, targets, arguments with any value, labels', () => {
    expect(
      reason(() =>
        checkBuildInput(base({ tags: ['app:1', 'localhost:5000/org/app:dep-1', 'registry.example.com/a/b_c'], target: 'build-stage', buildArgs: { NODE_ENV: '$(id); `x` \n' } })),
      ),
    ).toBeUndefined();
  });

  test.each([
    ['no tag', { tags: [] }],
    ['an option as a tag', { tags: ['--force'] }],
    ['upper case repository', { tags: ['App:1'] }],
    ['a tag with a space', { tags: ['app:1 2'] }],
    ['a digest', { tags: ['app@sha256:' + 'a'.repeat(64)] }],
    ['a target with a slash', { target: '../x' }],
    ['a build argument name with =', { buildArgs: { 'A=B': 'x' } }],
    ['a build argument value with NUL', { buildArgs: { A: 'x\u0000' } }],
    ['a label name with a space', { labels: { 'wharf.install': 'i', 'wharf.application': 'a', 'wharf.deployment': 'd', 'a b': 'x' } }],
    ['no deployment label', { labels: { 'wharf.install': 'i', 'wharf.application': 'a' } }],
    ['a zero deadline', { deadlineMs: 0 }],
    ['a secret id with a slash', { secrets: { 'a/b': 'x' } }],
  ])('refuses %s', (_what, over) => {
    expect(reason(() => checkBuildInput(base(over as Partial<ImageBuildInput>)))).toBe('invalid-input');
  });
});

test('createdKey orders RFC 3339 times with nanoseconds (trailing zeros trimmed) and falls back to seconds', () => {
  const a = createdKey('2026-12-05T14:00:00.1Z', 0);
  const b = createdKey('2026-12-05T14:00:00.09Z', 0);
  const c = createdKey('2026-12-05T14:00:01Z', 0);
  expect([c, a, b].sort()).toEqual([b, a, c]);
  expect(createdKey(undefined, 1764943200)).toBe('001764943200.000000000');
});

/** A fake engine on a Unix socket: `answer` decides what to do with each connection (after the request head). */
describe('against a fake engine', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-fake-engine-'));
  const socketPath = join(dir, 'docker.sock');
  const ctx = join(dir, 'ctx');
  const open = new Set<Socket>();
  let answer: (s: Socket) => void = () => undefined;
  let server: Server;

  beforeAll(async () => {
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\n');
    server = createServer((s) => {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => undefined);
      let head = '';
      const onData = (c: Buffer) => {
        head += c.toString('latin1');
        if (head.includes('\r\n\r\n')) {
          s.off('data', onData);
          s.resume();
          answer(s);
        }
      };
      s.on('data', onData);
    });
    await new Promise<void>((r) => server.listen(socketPath, r));
  });

  afterAll(async () => {
    for (const s of open) s.destroy();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const adapter = () => new DockerBuildAdapter({ socketPath, callTimeoutMs: 500 });

  async function allClosed(timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (open.size > 0) {
      if (Date.now() > deadline) throw new Error(`${open.size} connection(s) still open`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  test('an engine that never answers: the deadline aborts the request (timeout)', async () => {
    answer = () => undefined;
    const t0 = Date.now();
    await expect(adapter().build(base({ contextDir: ctx, deadlineMs: 300 }))).rejects.toMatchObject({ reason: 'timeout' });
    expect(Date.now() - t0).toBeLessThan(2500);
    await allClosed();
  });

  test('cancel while the engine streams progress: cancelled, connection closed', async () => {
    answer = (s) => {
      s.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
      const line = `${JSON.stringify({ stream: 'Step 1/1 : RUN sleep 1000\n' })}\r\n`;
      s.write(`${Buffer.byteLength(line).toString(16)}\r\n${line}\r\n`);
    };
    const ac = new AbortController();
    const lines: string[] = [];
    const p = adapter().build(base({ contextDir: ctx, deadlineMs: 10_000, signal: ac.signal, onLog: (l) => lines.push(l) }));
    while (!lines.some((l) => l.startsWith('Step 1/1'))) await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    await expect(p).rejects.toMatchObject({ reason: 'cancelled' });
    await allClosed();
  });

  test('an engine that drops the connection mid-build: engine, not a silent success', async () => {
    answer = (s) => {
      s.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
      const line = `${JSON.stringify({ stream: 'Step 1/1 : RUN x\n' })}\r\n`;
      s.write(`${Buffer.byteLength(line).toString(16)}\r\n${line}\r\n`);
      setTimeout(() => s.destroy(), 50);
    };
    await expect(adapter().build(base({ contextDir: ctx, deadlineMs: 5_000 }))).rejects.toMatchObject({ reason: 'engine' });
  });

  test('an engine error before the build starts (HTTP 500 with a message) is a build failure with that message', async () => {
    answer = (s) => {
      const body = JSON.stringify({ message: 'dockerfile parse error line 1: unknown instruction: FORM' });
      s.end(`HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    };
    const err = await adapter()
      .build(base({ contextDir: ctx, deadlineMs: 5_000 }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageBuildError);
    expect(err).toMatchObject({ reason: 'build-failed' });
    expect((err as Error).message).toMatch(/unknown instruction: FORM/);
  });
});
