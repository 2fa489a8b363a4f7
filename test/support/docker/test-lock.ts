import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A cross-process shared/exclusive lock for tests that use a machine-wide resource (the shared dockerd).
 *
 * - Shared holders (every Docker test file) each register a file `shared/<pid>-<random>` and run side by side.
 * - An exclusive holder creates the directory `exclusive/` (atomic), then waits until no live shared holder is left;
 *   new shared holders wait while it exists (so an exclusive waiter is not starved).
 * - A holder is identified by pid plus the process start time (from /proc), so a dead holder — or a recycled pid —
 *   is stale and is cleaned up by the next waiter.
 * - Every wait is bounded (`timeoutMs`, default {@link LOCK_WAIT_MS}, well below the suites' hook timeouts) and
 *   abortable (`signal`, or {@link TestLock.release} while the acquire is pending); the error names the holder's pid,
 *   its test file and its command line.
 *
 * A process that holds the lock shared and asks for it exclusively does not wait for itself (no self-deadlock).
 */
export type LockMode = 'shared' | 'exclusive';

export interface AcquireOptions {
  mode?: LockMode;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** What holds it (shown to waiters); defaults to the current Jest test file. */
  holder?: string;
}

/** The default wait for the lock. Hooks that take it set a timeout of at least {@link LOCK_HOOK_TIMEOUT_MS}. */
export const LOCK_WAIT_MS = 60_000;
/** A beforeAll that takes the lock and then starts Wharf: the lock's wait plus a generous start. */
export const LOCK_HOOK_TIMEOUT_MS = 180_000;

const POLL_MS = 200;
/** How long an `exclusive/` directory without its owner file counts as "being created" rather than abandoned. */
const HALF_CREATED_MS = 10_000;

interface HolderRecord {
  pid: number;
  start: string | null;
  holder: string;
}

export class TestLock {
  private sharedFile: string | null = null;
  private exclusiveHeld = false;
  private pending: AbortController | null = null;

  constructor(readonly dir: string) {}

  get held(): LockMode | null {
    return this.exclusiveHeld ? 'exclusive' : this.sharedFile ? 'shared' : null;
  }

  async acquire(options: AcquireOptions = {}): Promise<void> {
    if (this.held) throw new Error(`${this.dir} is already held (${this.held}) by this TestLock`);
    const mode = options.mode ?? 'shared';
    const timeoutMs = options.timeoutMs ?? LOCK_WAIT_MS;
    const me: HolderRecord = { pid: process.pid, start: startTimeOf(process.pid), holder: options.holder ?? currentTestFile() };
    const own = new AbortController();
    this.pending = own;
    const signal = options.signal ? AbortSignal.any([options.signal, own.signal]) : own.signal;
    const deadline = Date.now() + timeoutMs;
    const started = Date.now();
    mkdirSync(join(this.dir, 'shared'), { recursive: true });
    try {
      if (mode === 'shared') await this.acquireShared(me, deadline, signal, started);
      else await this.acquireExclusive(me, deadline, signal, started);
    } finally {
      if (this.pending === own) this.pending = null;
    }
  }

  /** Releases what this instance holds, and aborts an acquire still waiting (it then neither waits nor takes it). */
  release(): void {
    this.pending?.abort(new Error('released while waiting'));
    this.pending = null;
    if (this.sharedFile) {
      rmSync(this.sharedFile, { force: true });
      this.sharedFile = null;
    }
    if (this.exclusiveHeld) {
      rmSync(join(this.dir, 'exclusive'), { recursive: true, force: true });
      this.exclusiveHeld = false;
    }
  }

  private async acquireShared(me: HolderRecord, deadline: number, signal: AbortSignal, started: number): Promise<void> {
    for (;;) {
      // This process's own exclusive hold includes shared use.
      const blocking = () => {
        const b = this.liveExclusive();
        return b && b.pid !== me.pid ? b : null;
      };
      let blocker = blocking();
      if (!blocker) {
        const file = join(this.dir, 'shared', `${me.pid}-${randomBytes(4).toString('hex')}`);
        writeFileSync(file, JSON.stringify(me));
        // An exclusive holder may have appeared between the check and the write: it waits for us, so back off.
        blocker = blocking();
        if (!blocker) {
          this.sharedFile = file;
          return;
        }
        rmSync(file, { force: true });
      }
      await this.waitOrThrow('shared', [blocker], deadline, signal, started);
    }
  }

  private async acquireExclusive(me: HolderRecord, deadline: number, signal: AbortSignal, started: number): Promise<void> {
    const exclusiveDir = join(this.dir, 'exclusive');
    for (;;) {
      try {
        mkdirSync(exclusiveDir);
        writeFileSync(join(exclusiveDir, 'owner'), JSON.stringify(me));
        this.exclusiveHeld = true;
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const blocker = this.liveExclusive();
      if (blocker) await this.waitOrThrow('exclusive', [blocker], deadline, signal, started);
    }
    try {
      for (;;) {
        const others = this.liveShared().filter((h) => h.pid !== me.pid);
        if (others.length === 0) return;
        await this.waitOrThrow('exclusive', others, deadline, signal, started);
      }
    } catch (e) {
      rmSync(exclusiveDir, { recursive: true, force: true });
      this.exclusiveHeld = false;
      throw e;
    }
  }

  /** The live exclusive holder, if any; a dead or abandoned one is removed. */
  private liveExclusive(): HolderRecord | null {
    const exclusiveDir = join(this.dir, 'exclusive');
    let record: HolderRecord | null;
    try {
      record = JSON.parse(readFileSync(join(exclusiveDir, 'owner'), 'utf8')) as HolderRecord;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && !(e instanceof SyntaxError)) throw e;
      try {
        // No (complete) owner file: just created, or its creator died in between.
        const age = Date.now() - statSync(exclusiveDir).mtimeMs;
        if (age < HALF_CREATED_MS) return { pid: 0, start: null, holder: 'an exclusive holder being created' };
      } catch {
        return null;
      }
      record = null;
    }
    if (record && isAlive(record)) return record;
    rmSync(exclusiveDir, { recursive: true, force: true });
    return null;
  }

  /** The live shared holders; files of dead holders are removed. */
  private liveShared(): HolderRecord[] {
    const sharedDir = join(this.dir, 'shared');
    const live: HolderRecord[] = [];
    for (const name of readdirSync(sharedDir)) {
      const file = join(sharedDir, name);
      try {
        const record = JSON.parse(readFileSync(file, 'utf8')) as HolderRecord;
        if (isAlive(record)) live.push(record);
        else unlinkSync(file);
      } catch (e) {
        // Being written right now (empty or partial JSON): count it as live; gone meanwhile: ignore.
        if (e instanceof SyntaxError) live.push({ pid: Number(name.split('-')[0]), start: null, holder: 'a shared holder being registered' });
        else if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
    return live;
  }

  private async waitOrThrow(mode: LockMode, holders: HolderRecord[], deadline: number, signal: AbortSignal, started: number): Promise<void> {
    const describe = () => holders.map(describeHolder).join('; ');
    if (signal.aborted) throw new Error(`Gave up waiting for ${this.dir} (${mode}) after ${Date.now() - started} ms: ${reasonOf(signal)}; held by ${describe()}`);
    if (Date.now() >= deadline) throw new Error(`Timed out after ${Date.now() - started} ms waiting for ${this.dir} (${mode}); held by ${describe()}`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.min(POLL_MS, Math.max(0, deadline - Date.now())));
      signal.addEventListener('abort', done, { once: true });
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
    });
  }
}

function reasonOf(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  return r instanceof Error ? r.message : String(r ?? 'aborted');
}

/** Field 22 of /proc/PID/stat (start time in clock ticks since boot): tells a live holder from a recycled pid. */
function startTimeOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: split after its closing parenthesis.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function isAlive(h: HolderRecord): boolean {
  if (!h.pid) return false;
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const now = startTimeOf(h.pid);
  return h.start === null || now === null || now === h.start;
}

function commandLineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ').slice(0, 300);
  } catch {
    return '?';
  }
}

function describeHolder(h: HolderRecord): string {
  return h.pid ? `pid ${h.pid} (${h.holder}; command line: ${commandLineOf(h.pid)})` : h.holder;
}

function currentTestFile(): string {
  const state = (globalThis as { expect?: { getState?: () => { testPath?: string } } }).expect?.getState?.();
  return state?.testPath ?? process.argv.slice(1).join(' ').slice(0, 200);
}
