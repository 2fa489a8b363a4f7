/** Shared pieces of the DNS challenge adapters: a per-call deadline joined with the caller's AbortSignal. */
import { DnsChallengeError } from '../../ports/dns-challenge.port';

/** Default time one setTxt/clearTxt may take (Route 53 waits for INSYNC, so it has its own, longer default). */
export const DEFAULT_DNS_CALL_TIMEOUT_MS = 15_000;

/** A signal that aborts when `signal` does or after `timeoutMs`. */
export function withDeadline(timeoutMs: number, signal?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}

/** Throws a DnsChallengeError describing why `signal` aborted (caller's abort or the deadline). */
export function throwIfAborted(signal: AbortSignal, what: string): void {
  if (!signal.aborted) return;
  throw abortError(signal, what);
}

export function abortError(signal: AbortSignal, what: string): DnsChallengeError {
  const reason = signal.reason as { name?: string } | undefined;
  if (reason?.name === 'TimeoutError') return new DnsChallengeError(`${what} did not finish before its deadline`, 'TIMEOUT');
  return new DnsChallengeError(`${what} was aborted`, 'ABORTED');
}

/** Resolves after `ms`, or rejects when `signal` aborts. */
export function delay(ms: number, signal: AbortSignal, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortError(signal, what));
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(abortError(signal, what));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
