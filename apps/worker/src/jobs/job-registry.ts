import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, ModuleRef } from '@nestjs/core';
import { getQueueToken } from '@nestjs/bull';
import type { Job, Queue } from 'bull';
import { JOB_QUEUES, JobName, QUEUES } from '@wharf/contracts';
import { JOB_HANDLER, WHARF_CONFIG, WharfConfig } from '@wharf/core';

type Handler = (payload: unknown, job: Job) => Promise<unknown>;

/** Repeating maintenance jobs: name → interval. */
export const REPEATING: Partial<Record<JobName, number>> = {
  'outbox.purge-published': 60 * 60 * 1000,
  'identity.expire-stale': 10 * 60 * 1000,
  'audit.purge-expired': 6 * 60 * 60 * 1000,
  'deployment.watchdog': 10 * 1000,
  'runtime.reconcile': 15 * 1000,
  'deployments.purge-logs': 6 * 60 * 60 * 1000,
  'certificates.renew-due': 60 * 60 * 1000,
  'instance.tls': 10 * 60 * 1000,
  'webhooks.purge-deliveries': 6 * 60 * 60 * 1000,
  'sources.purge-uploads': 60 * 60 * 1000,
};

export class JobWiringError extends Error {}

/**
 * Finds every `@JobHandler(name)` method, checks that each job name in the contracts has exactly one handler (and no
 * handler names an unknown job), then starts processing every queue. A mis-wired build refuses to start.
 */
@Injectable()
export class JobRegistry implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Jobs');
  private readonly handlers = new Map<JobName, Handler>();
  private queues: Queue[] = [];
  private reschedule: NodeJS.Timeout | null = null;
  /** Handlers running now (not Bull's fetch loops, which only wait on Redis for the next job). */
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly moduleRef: ModuleRef,
    @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
  ) {}

  static check(found: Array<{ name: string; owner: string }>): Map<string, string> {
    const byName = new Map<string, string[]>();
    for (const f of found) byName.set(f.name, [...(byName.get(f.name) ?? []), f.owner]);
    const problems: string[] = [];
    for (const name of Object.keys(JOB_QUEUES)) {
      const owners = byName.get(name) ?? [];
      if (owners.length === 0) problems.push(`job "${name}" has no processor`);
      if (owners.length > 1) problems.push(`job "${name}" has ${owners.length} processors (${owners.join(', ')})`);
    }
    for (const name of byName.keys()) if (!(name in JOB_QUEUES)) problems.push(`processor for unknown job "${name}"`);
    if (problems.length) throw new JobWiringError(`Job wiring is broken: ${problems.join('; ')}`);
    return new Map([...byName].map(([k, v]) => [k, v[0]]));
  }

  async onApplicationBootstrap(): Promise<void> {
    const found: Array<{ name: JobName; owner: string; fn: Handler }> = [];
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object') continue;
      const proto = Object.getPrototypeOf(instance) as object;
      for (const method of this.scanner.getAllMethodNames(proto)) {
        const fn = instance[method] as Handler;
        const name = Reflect.getMetadata(JOB_HANDLER, fn) as JobName | undefined;
        if (name) found.push({ name, owner: `${instance.constructor.name}.${method}`, fn: fn.bind(instance) });
      }
    }
    JobRegistry.check(found);
    for (const f of found) this.handlers.set(f.name, f.fn);

    for (const queueName of Object.values(QUEUES)) {
      const queue = this.moduleRef.get<Queue>(getQueueToken(queueName), { strict: false });
      this.queues.push(queue);
      // @nestjs/bull closes each queue at shutdown too, awaiting `queue.close()` without a deadline: the same promise
      // this registry gave up on when Redis was unreachable. The registry owns the queues' shutdown (bounded, below).
      (queue as Queue & { onApplicationShutdown?: () => Promise<void> }).onApplicationShutdown = () => this.shutdown;
      // Deployments mostly wait on the engine, so many run at once; maintenance jobs are light and few; the watchdog
      // sweeps one at a time.
      const concurrency = queueName === QUEUES.deployments ? this.config.deployConcurrency : queueName === QUEUES.watchdog ? 1 : 2;
      void queue.process('*', concurrency, async (job: Job) => {
        const handler = this.handlers.get(job.name as JobName);
        if (!handler) throw new Error(`no handler for job ${job.name}`);
        const run = handler(job.data, job);
        this.running.add(run);
        return run.finally(() => this.running.delete(run));
      });
      queue.on('failed', (job, err) => this.logger.warn(`job ${job.name} (${job.id}) failed: ${err.message}`));
    }
    await this.scheduleRepeating();
    // Re-registering is idempotent; doing it now and then brings the schedules back if Redis lost its data.
    this.reschedule = setInterval(() => void this.scheduleRepeating().catch(() => undefined), 5 * 60 * 1000);
    this.reschedule.unref();
    this.logger.log(`processing ${found.length} job types on ${this.queues.length} queue(s) (prefix ${this.config.queuePrefix})`);
  }

  private async scheduleRepeating(): Promise<void> {
    for (const [name, every] of Object.entries(REPEATING) as Array<[JobName, number]>) {
      const queue = this.moduleRef.get<Queue>(getQueueToken(JOB_QUEUES[name]), { strict: false });
      await queue.add(name, { v: 1 }, { repeat: { every }, jobId: `repeat:${name}`, removeOnComplete: true, removeOnFail: 100, attempts: 3, backoff: { type: 'exponential', delay: 5000 } });
      // A schedule left on the queue the job ran on before (the watchdog moved off `maintenance`) is removed.
      for (const other of Object.values(QUEUES)) {
        if (other === JOB_QUEUES[name]) continue;
        const q = this.moduleRef.get<Queue>(getQueueToken(other), { strict: false });
        await q.removeRepeatable(name, { every, jobId: `repeat:${name}` }).catch(() => undefined);
      }
    }
  }

  /**
   * Lets the handlers that are running finish (deployments were already aborted and their leases given up by the
   * runner), for at most {@link JobRegistry.DRAIN_MS}, then closes the queues without waiting for Bull's fetch loops.
   * Waiting for those is what `queue.close()` does by default, and when Redis is reconnecting at that moment each
   * loop's blocking fetch sits in the client's offline queue and runs in turn for the drain delay: ten deployment slots
   * held a shutdown for five minutes. A queue that still does not close in {@link JobRegistry.CLOSE_MS} has its
   * connections dropped. A job cut off here stays active without a lock and is taken up again as stalled.
   */
  static readonly DRAIN_MS = 10_000;
  static readonly CLOSE_MS = 5_000;

  private shutdown: Promise<void> = Promise.resolve();

  onApplicationShutdown(): Promise<void> {
    this.shutdown = this.closeQueues();
    return this.shutdown;
  }

  private async closeQueues(): Promise<void> {
    if (this.reschedule) clearInterval(this.reschedule);
    if (this.running.size) {
      const drained = await within(Promise.allSettled([...this.running]), JobRegistry.DRAIN_MS);
      if (!drained) this.logger.warn(`shutting down with ${this.running.size} job(s) still running; they will be retried as stalled`);
    }
    await Promise.all(
      this.queues.map(async (q) => {
        if (await within(q.close(true).catch(() => undefined), JobRegistry.CLOSE_MS)) return;
        this.logger.warn(`queue ${q.name} did not close in ${JobRegistry.CLOSE_MS} ms; dropping its connections`);
        const clients = q as Queue & { eclient?: { disconnect(): void }; bclient?: { disconnect(): void } };
        for (const c of [q.client, clients.eclient, clients.bclient]) c?.disconnect();
      }),
    );
  }
}

/** True if `p` settled within `ms`. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([p.then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}
