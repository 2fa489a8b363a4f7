import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import {
  CANCEL_CHANNEL, DeploymentEntity, DeploymentLifecycle, DeploymentSnapshot, DeploymentScheduler, registryAad, RegistryEntity, resolveEnvironment,
  UnknownReferenceError, parseImageReference,
} from '@wharf/applications';
import { JobHandler, quitRedis, REDIS, SecretBox, WHARF_CONFIG, WharfConfig } from '@wharf/core';
import { RegistryAuth, ServiceChangeResult, ServiceSpecInput, SWARM_PORT, SwarmPort } from '@wharf/orchestration';
import { snapshotToSpec } from './snapshot-to-spec';
import { ensureEngineVolumes } from './engine-volumes';
import { RuntimeReconciler } from './runtime.reconciler';
import { maxRunLeftMs, waitBudgetMs } from './wait-budget';
import { ApplicationRouting } from '../routing/application-routing';
import { SourceBuild } from './source-build';
import { EdgeProxy } from '../edge/edge-proxy';

const PULL_TIMEOUT_MS = 10 * 60_000;
/** How long log lines and the final status are retried through a database outage. */
const LOG_RETRY_MS = 60_000;
/** Most log lines written in one statement. */
const LOG_BATCH = 500;
const FINISH_RETRY_MS = 5 * 60_000;
/** How long a shutdown waits for interrupted deployments to stop (each stops at its next check, within seconds). */
const SHUTDOWN_WAIT_MS = 15_000;

/** Retries `fn` with exponential backoff (250 ms → 5 s) until it succeeds or `budgetMs` has passed. */
async function withRetry<T>(fn: () => Promise<T>, budgetMs: number, onRetry?: (e: Error, attempt: number) => void): Promise<T> {
  const deadline = Date.now() + budgetMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const wait = Math.min(5000, 250 * 2 ** (attempt - 1));
      if (Date.now() + wait > deadline) throw e;
      onRetry?.(e as Error, attempt);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

class Aborted extends Error {
  constructor(readonly why: 'cancelled' | 'timeout' | 'lease-lost' | 'shutdown', readonly detail?: string) {
    super(detail ? `${why}: ${detail}` : why);
  }
}

type Level = 'info' | 'warn' | 'error';

/** What every step of one run shares. */
interface RunContext {
  d: DeploymentEntity;
  resumed: boolean;
  signal: AbortSignal;
  /** Appends a line to the deployment's log, in order; a database outage delays lines instead of losing them. */
  log(step: string, msg: string, level?: Level): Promise<void>;
  /** Throws the abort reason (cancelled, timeout, lease lost) once the run is aborted. */
  check(): void;
  /** Fencing: right before every engine change; throws (and aborts the run) when the lease is no longer held. */
  fence(): Promise<void>;
  /** Filled in by the steps, in order: registry credentials, image digest, Swarm spec, service id. */
  auth?: RegistryAuth;
  digest?: string;
  spec?: ServiceSpecInput;
  serviceId?: string;
  /** The organization's edge network, when the application is routed and the edge is enabled (set by the network step). */
  edgeNetwork?: string;
}

type StepFailure = { ok: false; error: string; rolledBack?: boolean; restoredDeployment?: string };
type StepsOutcome = { ok: true; digest: string } | StepFailure;

/**
 * Runs one deployment: network → image → service create/update → wait for convergence. Holds a lease in PostgreSQL
 * (renewed while it works) so a deployment never runs twice at once; a worker that dies leaves an expiring lease that
 * the watchdog hands to the next worker, which resumes (every step is idempotent: Swarm converges to the snapshot).
 */
@Injectable()
export class DeploymentRunner implements OnModuleInit, BeforeApplicationShutdown, OnModuleDestroy {
  private readonly leaseMs: number;
  private readonly logger = new Logger('Deployments');
  readonly workerId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly running = new Map<string, AbortController>();
  /** The runs in progress, so a shutdown can wait for them to stop. */
  private readonly inFlight = new Set<Promise<unknown>>();
  private stopping = false;
  private subscriber: Redis | null = null;

  constructor(
    private readonly ds: DataSource,
    private readonly lifecycle: DeploymentLifecycle,
    private readonly scheduler: DeploymentScheduler,
    private readonly reconciler: RuntimeReconciler,
    private readonly box: SecretBox,
    @Inject(SWARM_PORT) private readonly swarm: SwarmPort,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
    private readonly routing: ApplicationRouting,
    private readonly edge: EdgeProxy,
    private readonly sourceBuild: SourceBuild,
  ) {
    this.leaseMs = config.deployLeaseMs;
  }

  async onModuleInit(): Promise<void> {
    this.subscriber = this.redis.duplicate();
    this.subscriber.on('message', (_channel, id: string) => this.running.get(id)?.abort(new Aborted('cancelled')));
    this.subscriber.on('error', () => undefined);
    await this.subscriber.subscribe(CANCEL_CHANNEL(this.config.queuePrefix));
  }

  /**
   * A worker told to stop (SIGTERM, a rolling update of Wharf) interrupts its running deployments instead of holding
   * the shutdown until they end (Bull waits for active jobs, and a deployment may wait minutes for its health check):
   * each stops between engine calls, changes nothing more, and gives its lease up, so the next worker resumes it
   * exactly as after a crash (every step is idempotent). Waits at most SHUTDOWN_WAIT_MS for them.
   */
  async beforeApplicationShutdown(): Promise<void> {
    // From now on this worker takes no deployment (a watchdog sweep may hand the interrupted ones back before its
    // queues close): another worker, or this one after its restart, runs them.
    this.stopping = true;
    if (this.running.size === 0) return;
    this.logger.log(`shutting down: interrupting ${this.running.size} running deployment(s); they resume on the next worker`);
    for (const ac of this.running.values()) ac.abort(new Aborted('shutdown', 'the worker is shutting down'));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => (timer = setTimeout(r, SHUTDOWN_WAIT_MS)))]);
    clearTimeout(timer);
  }

  async onModuleDestroy(): Promise<void> {
    if (this.subscriber) await quitRedis(this.subscriber);
  }

  @JobHandler('deployment.run')
  run(payload: { deploymentId: string }): Promise<{ outcome: string }> {
    if (this.stopping) return Promise.resolve({ outcome: 'skipped' });
    const p = this.runOnce(payload);
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p)).catch(() => undefined);
    return p;
  }

  private async runOnce(payload: { deploymentId: string }): Promise<{ outcome: string }> {
    // This process already runs it (e.g. the watchdog re-queued it while a database outage kept the lease from being
    // renewed): claiming again would run it twice at once under the same worker id.
    if (this.running.has(payload.deploymentId)) return { outcome: 'skipped' };
    let claimed: Awaited<ReturnType<DeploymentLifecycle['claim']>>;
    try {
      claimed = await this.lifecycle.claim(payload.deploymentId, this.workerId, this.leaseMs);
    } catch (e) {
      // Another deployment of the same application is running (unique index): Bull retries later.
      if ((e as { code?: string }).code === '23505') throw new Error('another deployment of this application is running');
      throw e;
    }
    if (!claimed) return { outcome: 'skipped' };
    const d = claimed.deployment;
    const ac = new AbortController();
    this.running.set(d.id, ac);
    // The cancel flag is read with every renewal: pub/sub only makes a cancel faster, a lost message delays it by one
    // renewal period at most.
    const renew = setInterval(() => {
      void this.lifecycle.renew(d.id, this.workerId, this.leaseMs).then((r) => {
        if (r === 'lost') ac.abort(new Aborted('lease-lost'));
        else if (r === 'cancel-requested') ac.abort(new Aborted('cancelled'));
      }, () => undefined);
    }, Math.max(1000, Math.floor(this.leaseMs / 4)));
    if (await this.lifecycle.isCancelRequested(d.id)) ac.abort(new Aborted('cancelled'));
    // A maximum run time, whatever keeps renewing the lease: a step stuck past every deadline still ends the deployment.
    const maxRun = setTimeout(() => ac.abort(new Aborted('timeout', 'the deployment ran past its maximum run time')), maxRunLeftMs(d.snapshot.spec.deployTimeoutMs, d.startedAt));
    const ctx = this.context(d, claimed.resumed, ac);
    const abortedBy = (e: unknown, why: Aborted['why']) => (e instanceof Aborted && e.why === why) || (ac.signal.reason instanceof Aborted && ac.signal.reason.why === why);
    const leaseLost = (e: unknown) => abortedBy(e, 'lease-lost');
    const interrupted = (e: unknown) => abortedBy(e, 'shutdown');
    try {
      try {
        const outcome = await this.runSteps(ctx);
        await this.finish(d.id, outcome.ok ? 'succeeded' : 'failed', outcome.ok ? null : outcome.error, outcome.ok ? { imageDigest: outcome.digest } : restoredExtra(outcome));
        return { outcome: outcome.ok ? 'succeeded' : 'failed' };
      } catch (e) {
        if (leaseLost(e) || interrupted(e)) throw e;
        const why = ac.signal.aborted && ac.signal.reason instanceof Aborted ? ac.signal.reason.why : null;
        // A cancel or failure restores the last succeeded deployment's spec if this deployment changed the service,
        // in this attempt or in one before a crash.
        const restored = await this.restore(ctx, false);
        if (why === 'cancelled') {
          await this.finish(d.id, 'cancelled', null, restoredExtra(restored));
          return { outcome: 'cancelled' };
        }
        const detail = (ac.signal.reason as Aborted | undefined)?.detail;
        const message = why === 'timeout' ? `Timed out${detail ? `: ${detail}` : ''}` : (e as Error).message;
        await this.finish(d.id, 'failed', message, restoredExtra(restored));
        return { outcome: 'failed' };
      }
    } catch (e) {
      if (interrupted(e) && !leaseLost(e)) {
        // Shutting down: no restore and no final status (the run is not over); the lease goes so a worker resumes it.
        await ctx.log('worker', 'The worker running this deployment is shutting down; the next worker resumes it', 'warn');
        await this.lifecycle.release(d.id, this.workerId).catch(() => undefined);
        return { outcome: 'interrupted' };
      }
      if (!leaseLost(e)) throw e;
      // Paused or cut off past its lease: another worker may own the deployment now, so this one changes nothing.
      const reason = e instanceof Aborted ? e : ac.signal.reason;
      this.logger.warn(`deployment ${d.id}: lease lost (${reason instanceof Aborted ? reason.message : 'renewal refused'}), another worker takes over; this worker changes nothing more`);
      return { outcome: 'lease-lost' };
    } finally {
      clearInterval(renew);
      clearTimeout(maxRun);
      this.running.delete(d.id);
      await this.scheduler.kick(d.applicationId).catch(() => undefined);
      await this.reconciler.reconcileApplication(d.applicationId).catch(() => undefined);
    }
  }

  private context(d: DeploymentEntity, resumed: boolean, ac: AbortController): RunContext {
    const signal = ac.signal;
    // Log lines are written in the order they happen (callbacks fire without waiting): one writer at a time, and the
    // lines that queued up while it wrote go together in its next statement (a burst of build output costs a few round
    // trips, not one per line). A line's promise settles once it is written (or given up).
    const queue: Array<{ step: string; level: Level; message: string; done: () => void }> = [];
    let writing = false;
    // A short database outage delays the lines (retried in order) instead of losing them; past LOG_RETRY_MS of
    // continuous failure, lines are dropped at once so the steps are not held up line by line.
    let failingSince: number | null = null;
    const write = async (lines: Array<{ step: string; level: Level; message: string }>) => {
      const budget = failingSince === null ? LOG_RETRY_MS : Math.max(0, LOG_RETRY_MS - (Date.now() - failingSince));
      try {
        await withRetry(() => this.lifecycle.logMany(d.id, lines, this.workerId), budget, () => (failingSince ??= Date.now()));
        failingSince = null;
      } catch {
        failingSince ??= Date.now();
      }
    };
    // A worker that lost its lease writes nothing more: the deployment's log belongs to the worker that took over.
    const lost = () => signal.reason instanceof Aborted && signal.reason.why === 'lease-lost';
    const drain = async () => {
      writing = true;
      try {
        while (queue.length > 0) {
          const batch = queue.splice(0, LOG_BATCH);
          if (!lost()) await write(batch);
          for (const l of batch) l.done();
        }
      } finally {
        writing = false;
      }
    };
    const log = (step: string, message: string, level: Level = 'info'): Promise<void> =>
      new Promise<void>((done) => {
        queue.push({ step, level, message, done });
        if (!writing) void drain();
      });
    const check = () => {
      if (signal.aborted) throw signal.reason;
    };
    const fence = async () => {
      // A database outage delays the fence (retried with backoff, as log lines are) instead of failing the deployment:
      // the fence still holds only if the lease did not expire meanwhile. A lost lease ends the retrying; a cancel or
      // timeout does not (the restore that follows them is an engine change too, and is fenced like any other).
      const held = await withRetry(async () => (lost() ? false : this.lifecycle.fence(d.id, this.workerId, this.leaseMs)), LOG_RETRY_MS);
      if (held) return;
      const fenced = new Aborted('lease-lost', 'fenced before an engine change');
      ac.abort(fenced);
      throw fenced;
    };
    return { d, resumed, signal, log, check, fence };
  }

  /**
   * The deployment's steps, in order. Each is idempotent (a resumed run repeats them: they converge on the snapshot)
   * and leaves what the next one needs on the context; one that returns a failure ends the run there.
   */
  private readonly steps: ReadonlyArray<{ name: string; run: (ctx: RunContext) => Promise<StepFailure | void> }> = [
    // A Git application: check out and build first (nothing for image applications or reused images).
    { name: 'source', run: (ctx) => this.sourceBuild.run(ctx) },
    { name: 'network', run: (ctx) => this.networkStep(ctx) },
    { name: 'image', run: (ctx) => this.imageStep(ctx) },
    { name: 'spec', run: (ctx) => this.specStep(ctx) },
    { name: 'volumes', run: (ctx) => ensureEngineVolumes(this.swarm, ctx.d.snapshot, (msg, level) => ctx.log('volumes', msg, level)) },
    { name: 'service', run: (ctx) => this.serviceStep(ctx) },
    { name: 'routing', run: (ctx) => this.routingStep(ctx) },
    { name: 'wait', run: (ctx) => this.waitStep(ctx) },
  ];

  private async runSteps(ctx: RunContext): Promise<StepsOutcome> {
    for (const step of this.steps) {
      ctx.check();
      const failure = await step.run(ctx);
      if (failure) return failure;
    }
    return { ok: true, digest: ctx.digest! };
  }

  /**
   * Writes the application's Traefik file from its current domains (only when its content changes), or removes it when
   * the application has none. Idempotent: a resumed run writes nothing new.
   */
  private async routingStep({ d, log }: RunContext): Promise<void> {
    const r = await this.routing.apply(d.applicationId, d.snapshot.serviceName);
    for (const s of r.skipped) await log('routing', `routing: domain ${s} no longer passes validation and is not routed; change or delete it`, 'warn');
    if (r.kind === 'written') await log('routing', r.changed ? `routing: wrote ${r.routers} routers` : `routing: unchanged (${r.routers} routers)`);
    else if (r.existed) await log('routing', 'routing: no domains; removed the routing file');
  }

  private async networkStep(ctx: RunContext): Promise<void> {
    const { d, log } = ctx;
    const s = d.snapshot;
    await log('network', `Ensuring overlay network ${s.networkName}`);
    const net = await this.swarm.ensureNetwork(s.networkName, { 'wharf.install': s.labels['wharf.install'], 'wharf.organization': s.labels['wharf.organization'], 'wharf.environment': s.labels['wharf.environment'] });
    await log('network', net.created ? 'Network created' : 'Network exists');
    await this.edgeStep(ctx);
  }

  /**
   * A routed application (it has domains now: the routing step renders the same ones) joins its organization's edge
   * network; the network and this install's Traefik service on every edge network are ensured here (idempotent, labels
   * checked: a same-named network this install did not make for the organization fails the deployment).
   */
  private async edgeStep(ctx: RunContext): Promise<void> {
    const { d, log } = ctx;
    if (!this.edge.enabled || !(await this.routing.isRouted(d.applicationId))) return;
    const install = d.snapshot.labels['wharf.install'];
    const organizationId = d.snapshot.labels['wharf.organization'];
    await log('network', `Ensuring edge network ${this.edge.networkName(install, organizationId)} of the organization and the edge proxy on it`);
    await ctx.fence();
    const r = await this.edge.ensureForOrganization(install, organizationId);
    ctx.edgeNetwork = r.network;
    await log('network', r.networkCreated ? 'Edge network created' : 'Edge network exists');
    await log('network', `Edge proxy ${r.proxy.name} ${r.proxy.action} (on ${r.proxy.networks} edge network${r.proxy.networks === 1 ? '' : 's'})`);
  }

  /** Pulls the image when it names a registry (falling back to a local copy), and records its digest. */
  private async imageStep(ctx: RunContext): Promise<StepFailure | void> {
    const { d, signal, log, check } = ctx;
    const s = d.snapshot;
    const auth = (ctx.auth = await this.registryAuth(s, d.organizationId));
    const ref = parseImageReference(s.image);
    const pinned = s.image.startsWith('sha256:') || (ref?.digest ?? null) !== null;
    let digest: string | null = null;
    if (ref?.registry && !s.image.startsWith('sha256:')) {
      await log('pull', `Pulling ${s.image}${auth ? ` with the credentials of registry ${auth.serveraddress}` : ''}`);
      const pullSignal = AbortSignal.any([signal, AbortSignal.timeout(PULL_TIMEOUT_MS)]);
      let lastLog = 0;
      try {
        await this.swarm.pullImage(s.image, auth, (p) => {
          const now = Date.now();
          if (now - lastLog > 1000 && p.status) {
            lastLog = now;
            void log('pull', `${p.id ? `${p.id}: ` : ''}${p.status}${p.progress ? ` ${p.progress}` : ''}`);
          }
        }, pullSignal);
        await log('pull', 'Pull complete');
      } catch (e) {
        check();
        digest = await this.swarm.imageDigest(s.image).catch(() => null);
        if (!digest) return { ok: false, error: `Image ${s.image} could not be pulled: ${(e as Error).message}` };
        await log('pull', `Pull failed (${(e as Error).message}); using the image already present on this node`, 'warn');
      }
    } else {
      digest = await this.swarm.imageDigest(s.image).catch(() => null);
      if (digest) await log('pull', `Using the local image ${s.image}${pinned ? ' (pinned)' : ''}`);
      else {
        await log('pull', `Pulling ${s.image}`);
        try {
          await this.swarm.pullImage(s.image, auth, () => undefined, AbortSignal.any([signal, AbortSignal.timeout(PULL_TIMEOUT_MS)]));
        } catch (e) {
          check();
          return { ok: false, error: `Image ${s.image} was not found locally and could not be pulled: ${(e as Error).message}` };
        }
      }
    }
    check();
    ctx.digest = digest ?? (await this.swarm.imageDigest(s.image));
    await this.lifecycle.recordDigest(d.id, ctx.digest);
    await log('pull', `Image digest ${ctx.digest}`);
  }

  /** Resolves the environment (secrets decrypted only here) into the Swarm spec. */
  private async specStep(ctx: RunContext): Promise<StepFailure | void> {
    const s = ctx.d.snapshot;
    try {
      ctx.spec = snapshotToSpec(s, resolveEnvironment(s, (box, aad) => this.box.decrypt(box, aad)), ctx.auth, { edgeNetwork: ctx.edgeNetwork });
    } catch (e) {
      if (e instanceof UnknownReferenceError) return { ok: false, error: e.message };
      throw e;
    }
  }

  /**
   * Creates or updates the service, fenced by the lease. A service that already carries this deployment was changed by
   * an earlier attempt before its worker stopped: changing it again would make this very spec Swarm's PreviousSpec,
   * so the wait judges the change already made.
   */
  private async serviceStep(ctx: RunContext): Promise<void> {
    const { d, log, check } = ctx;
    const s = d.snapshot;
    const existing = await this.swarm.inspectService(s.serviceName);
    check();
    if (existing && existing.labels['wharf.deployment'] === d.id) {
      ctx.serviceId = existing.id;
      await log('service', `Service ${s.serviceName} already carries this deployment (changed by an earlier attempt): not changed again`);
      return;
    }
    await ctx.fence();
    const change: ServiceChangeResult = existing ? await this.swarm.updateService(existing.id, ctx.spec!, { force: s.forceUpdate }) : await this.swarm.createService(ctx.spec!);
    ctx.serviceId = change.id;
    for (const a of change.adjustments) await log('service', a.message, a.level === 'error' ? 'error' : 'warn');
    for (const w of change.warnings) await log('service', `Docker: ${w}`, 'warn');
    await log('service', existing ? `Updated service ${s.serviceName} (replicas ${s.replicas})` : `Created service ${s.serviceName} (replicas ${s.replicas})`);
  }

  /** Waits for Swarm to converge (what is left of the timeout when resumed); a failure restores the last good spec. */
  private async waitStep(ctx: RunContext): Promise<StepFailure | void> {
    const { d, resumed, signal, log, check } = ctx;
    const s = d.snapshot;
    const budgetMs = waitBudgetMs(s.spec.deployTimeoutMs, d.startedAt, resumed);
    await log('wait', `Waiting up to ${Math.round(budgetMs / 1000)} s${budgetMs < s.spec.deployTimeoutMs ? ' (what is left of the timeout since the deployment started)' : ''} for ${s.replicas} task(s) to run${s.spec.healthcheck ? ' and pass their health check' : ''}`);
    const waitSignal = AbortSignal.any([signal, AbortSignal.timeout(budgetMs + 5000)]);
    let lastProgress = '';
    const result = await this.swarm.waitForConvergence(ctx.serviceId!, {
      timeoutMs: budgetMs,
      signal: waitSignal,
      // Poll often (a deployment should end as soon as Swarm converged); without a health check, tasks must keep
      // running for half a second, which catches containers that exit at once.
      pollMs: 100,
      stableMs: s.spec.healthcheck ? 0 : 500,
      onEvent: (ev) => {
        if (ev.type === 'task') void log('wait', `task ${ev.slot ?? ''} ${ev.state}${ev.error ? `: ${ev.error}` : ev.message ? ` (${ev.message})` : ''}`);
        else if (ev.type === 'update-status') void log('wait', `update ${ev.state}${ev.message ? `: ${ev.message}` : ''}`);
        else if (ev.type === 'engine') void log('wait', ev.state === 'unavailable' ? `Docker engine unavailable: ${ev.message}` : ev.message, ev.state === 'unavailable' ? 'warn' : 'info');
        else if (ev.type === 'progress') {
          const p = `${ev.running}/${ev.desired} running`;
          if (p !== lastProgress) void log('wait', (lastProgress = p));
        }
      },
    });
    if (result.ok) {
      await log('wait', `${result.running}/${result.desired} task(s) running`);
      return;
    }
    if (result.reason === 'aborted') check();
    const detail = [result.message, result.exitCode !== undefined ? `exit code ${result.exitCode}` : null, result.taskError, result.healthOutput ? `health check: ${result.healthOutput.trim().slice(0, 500)}` : null]
      .filter(Boolean)
      .join('; ');
    return { ok: false, error: `${result.reason}: ${detail}`, ...(await this.restore(ctx, result.reason === 'rolled-back')) };
  }

  /**
   * After a failure or cancel: puts the service back on the spec of the application's last succeeded deployment (its
   * snapshot, image pinned to its digest) — never Swarm's PreviousSpec, which after a resumed or repeated update is
   * this deployment's own spec. Only a service this deployment changed (it carries its label, possibly from an
   * attempt before a crash) or that Swarm rolled back itself is touched; the change is fenced by the lease.
   */
  private async restore(ctx: RunContext, swarmRolledBack: boolean): Promise<{ rolledBack: boolean; restoredDeployment?: string }> {
    const { d, log } = ctx;
    const s = d.snapshot;
    try {
      const service = await this.swarm.inspectService(s.serviceName);
      const carries = service?.labels['wharf.deployment'];
      // This deployment changed the service (in this attempt, or in one before a crash: it carries its label), or Swarm
      // rolled it back by itself (possibly already under way when the wait failed): otherwise it is not ours to touch.
      const touched = ctx.serviceId !== undefined || carries === d.id || swarmRolledBack;
      if (!service || service.labels['wharf.install'] !== s.labels['wharf.install'] || !touched) return { rolledBack: false };
      const last = await this.lifecycle.lastSucceeded(d.applicationId, d.id);
      if (!last) {
        await log('rollback', swarmRolledBack ? 'Swarm rolled the service back to its previous spec' : 'No earlier deployment of this application succeeded: there is no spec to restore', 'warn');
        return { rolledBack: swarmRolledBack };
      }
      if (carries === last.id) {
        await log('rollback', `Swarm rolled the service back to the spec of deployment ${last.id}, the last that succeeded`, 'warn');
        return { rolledBack: true, restoredDeployment: last.id };
      }
      await log('rollback', `Restoring the spec of deployment ${last.id}, the last that succeeded`, 'warn');
      const snap: DeploymentSnapshot = { ...last.snapshot, image: last.imageDigest ?? last.snapshot.image, forceUpdate: false };
      const auth = await this.registryAuth(snap, d.organizationId);
      // The restored service stays on the edge network the routing step points Traefik at.
      const spec = snapshotToSpec(snap, resolveEnvironment(snap, (box, aad) => this.box.decrypt(box, aad)), auth, { edgeNetwork: ctx.edgeNetwork });
      await ctx.fence();
      await this.swarm.updateService(service.id, spec);
      return { rolledBack: true, restoredDeployment: last.id };
    } catch (e) {
      if (e instanceof Aborted && e.why === 'lease-lost') throw e;
      await log('rollback', `Could not restore the last succeeded spec: ${(e as Error).message}`, 'error');
      return { rolledBack: false };
    }
  }

  /**
   * Records the outcome; retried with backoff, so a database outage at the moment a deployment ends delays the record
   * instead of leaving the deployment `running` until its lease expires and another run repeats the work.
   */
  private async finish(id: string, outcome: 'succeeded' | 'failed' | 'cancelled', error: string | null, extra: Record<string, unknown> = {}): Promise<void> {
    const recorded = await withRetry(() => this.lifecycle.finish(id, this.workerId, outcome, error, extra), FINISH_RETRY_MS, (e, attempt) =>
      this.logger.warn(`deployment ${id}: recording "${outcome}" failed (attempt ${attempt}): ${e.message}; retrying`),
    );
    // Refused: this worker stalled past its lease (e.g. paused inside the finishing transaction until PostgreSQL ended
    // it) and another worker owns or ended the deployment; its status stays what that worker recorded.
    if (!recorded) this.logger.warn(`deployment ${id}: lease lost (recording "${outcome}" refused: another worker took it over or ended it); this worker changes nothing more`);
  }

  private async registryAuth(s: DeploymentSnapshot, organizationId: string): Promise<RegistryAuth | undefined> {
    const id = s.spec.registryId;
    if (!id) return undefined;
    const r = await this.ds.getRepository(RegistryEntity).findOneBy({ id, organizationId });
    if (!r) throw new Error('The registry of this application no longer exists');
    return { serveraddress: r.host, username: r.username, password: this.box.decrypt(r.passwordEnc, registryAad(r.id)) };
  }

  /** For the watchdog and tests. */
  isRunning(id: string): boolean {
    return this.running.has(id);
  }
}

/** The audit's account of a restore: whether the service was put back, and on which deployment's spec. */
function restoredExtra(r: { rolledBack?: boolean; restoredDeployment?: string }): Record<string, unknown> {
  return { rolledBack: !!r.rolledBack, ...(r.restoredDeployment ? { restoredDeployment: r.restoredDeployment } : {}) };
}
