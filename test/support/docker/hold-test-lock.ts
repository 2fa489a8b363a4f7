/**
 * Holds a TestLock from its own process until stdin closes or it is signalled (the lock's tests use it as the "other
 * Jest worker"; by hand it keeps Docker test files off the shared dockerd:
 * `node scripts/run-ts.js test/support/docker/hold-test-lock.ts /tmp/wharf-docker-tests.lock.d exclusive`).
 * Prints `held` once it holds the lock.
 */
import { TestLock } from './test-lock';

async function main(): Promise<void> {
  const [dir, mode = 'shared', timeout = '60000'] = process.argv.slice(2);
  if (!dir || (mode !== 'shared' && mode !== 'exclusive')) {
    console.error('usage: hold-test-lock.ts DIR [shared|exclusive] [timeoutMs]');
    process.exit(2);
  }
  const lock = new TestLock(dir);
  await lock.acquire({ mode, timeoutMs: Number(timeout), holder: `hold-test-lock ${mode}` });
  const stop = () => {
    lock.release();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
  process.stdout.write('held\n');
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
