import type { Queue } from 'bull';

/**
 * Adds a job to a real Bull queue and waits for its outcome by polling its state (not Bull's pub/sub events, which a
 * busy Redis may deliver late, and which `removeOnComplete` would leave nothing to poll for). Returns the handler's
 * result; throws the handler's error, or names the state the job was stuck in.
 */
export async function runJob<T = Record<string, unknown>>(queue: Queue, name: string, data: object, timeoutMs = 45_000): Promise<T> {
  const job = await queue.add(name, data, { removeOnComplete: false, removeOnFail: false });
  const until = Date.now() + timeoutMs;
  let state = 'unknown';
  while (Date.now() < until) {
    const current = await queue.getJob(job.id);
    state = current ? await current.getState() : 'missing';
    if (state === 'completed') return current!.returnvalue as T;
    if (state === 'failed') throw new Error(`job ${name} failed: ${current!.failedReason}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${name} (${job.id}) still ${state} after ${timeoutMs} ms`);
}
