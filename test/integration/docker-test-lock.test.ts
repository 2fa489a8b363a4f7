import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TestLock } from '../support/docker/test-lock';
import { until } from '../support/processes';

/** The Docker test lock across real processes: the holders below are separate Node processes, like Jest workers. */
jest.setTimeout(60_000);

const ROOT = resolve(__dirname, '..', '..');
let dir: string;
const children: ChildProcess[] = [];

/** Another process holding the lock; resolves once it says it holds it. */
async function holder(mode: 'shared' | 'exclusive'): Promise<{ child: ChildProcess; exited: Promise<unknown> }> {
  const child = spawn(process.execPath, [join(ROOT, 'scripts', 'run-ts.js'), join(ROOT, 'test', 'support', 'docker', 'hold-test-lock.ts'), dir, mode], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  const exited = new Promise((r) => child.once('exit', r));
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  await until(`the ${mode} holder to hold the lock`, async () => {
    if (child.exitCode !== null) throw new Error(`holder exited: ${out}`);
    return out.includes('held');
  }, 30_000, 50);
  return { child, exited };
}

const sharedFiles = () => readdirSync(join(dir, 'shared'));

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'wharf-lock-test-'));
});

afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await gone;
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

it('shared holders in different processes run side by side', async () => {
  await holder('shared');
  const lock = new TestLock(dir);
  const t0 = Date.now();
  await lock.acquire({ timeoutMs: 5000 });
  expect(Date.now() - t0).toBeLessThan(1000);
  expect(lock.held).toBe('shared');
  expect(sharedFiles()).toHaveLength(2);
  lock.release();
  expect(sharedFiles()).toHaveLength(1);
});

it('exclusive waits for a live shared holder, is bounded, and names the holder (pid and command line)', async () => {
  const other = await holder('shared');
  const lock = new TestLock(dir);
  const t0 = Date.now();
  const err = await lock.acquire({ mode: 'exclusive', timeoutMs: 1500 }).catch((e: Error) => e);
  const waited = Date.now() - t0;
  expect(err).toBeInstanceOf(Error);
  expect((err as Error).message).toContain(`Timed out after`);
  expect((err as Error).message).toContain(`pid ${other.child.pid} (hold-test-lock shared; command line: `);
  expect((err as Error).message).toContain('hold-test-lock.ts');
  expect(waited).toBeGreaterThanOrEqual(1500);
  expect(waited).toBeLessThan(5000);
  // A failed exclusive attempt leaves nothing that would block shared holders.
  expect(lock.held).toBeNull();
  const next = new TestLock(dir);
  await next.acquire({ timeoutMs: 1000 });
  next.release();
});

it('exclusive gets the lock once the shared holder releases it', async () => {
  const other = await holder('shared');
  const lock = new TestLock(dir);
  const acquired = lock.acquire({ mode: 'exclusive', timeoutMs: 20_000 });
  other.child.stdin!.end(); // the holder releases and exits
  await acquired;
  expect(lock.held).toBe('exclusive');
  expect(sharedFiles()).toHaveLength(0);
  lock.release();
});

it('a holder that died without releasing (SIGKILL) is stale: the next one takes over at once', async () => {
  const other = await holder('exclusive');
  other.child.kill('SIGKILL');
  await other.exited;
  const lock = new TestLock(dir);
  const t0 = Date.now();
  await lock.acquire({ timeoutMs: 5000 });
  expect(Date.now() - t0).toBeLessThan(1000);
  lock.release();
});

it('a recycled pid (alive, but started at another time) does not count as the holder', async () => {
  const sleeper = spawn('/bin/sleep', ['60']);
  children.push(sleeper);
  mkdirSync(join(dir, 'shared'), { recursive: true });
  writeFileSync(join(dir, 'shared', `${sleeper.pid}-x`), JSON.stringify({ pid: sleeper.pid, start: '1', holder: 'a long gone test' }));
  const lock = new TestLock(dir);
  await lock.acquire({ mode: 'exclusive', timeoutMs: 2000 });
  expect(sharedFiles()).toHaveLength(0);
  lock.release();
});

it('a shared waiter behind an exclusive holder can be aborted (signal, or release()) and then holds nothing', async () => {
  const other = await holder('exclusive');
  const lock = new TestLock(dir);
  const ac = new AbortController();
  const t0 = Date.now();
  const pending = lock.acquire({ timeoutMs: 30_000, signal: ac.signal }).catch((e: Error) => e);
  setTimeout(() => ac.abort(new Error('the beforeAll gave up')), 300);
  const err = (await pending) as Error;
  expect(Date.now() - t0).toBeLessThan(3000);
  expect(err.message).toMatch(/Gave up waiting .* the beforeAll gave up; held by pid \d+/);
  expect(err.message).toContain(`pid ${other.child.pid}`);

  // release() while waiting (what SwarmTestRun.cleanup() does when a beforeAll timed out) abandons the wait.
  const again = lock.acquire({ timeoutMs: 30_000 }).catch((e: Error) => e);
  await new Promise((r) => setTimeout(r, 300));
  lock.release();
  expect(((await again) as Error).message).toContain('released while waiting');
  expect(lock.held).toBeNull();
  expect(sharedFiles()).toHaveLength(0);
});
