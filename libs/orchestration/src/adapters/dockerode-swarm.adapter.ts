import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import Docker from 'dockerode';
import { SPEC_HASH_LABEL } from '../ports/swarm.port';
import type {
  ConvergenceEvent,
  ConvergenceResult,
  EnsureServiceResult,
  HostCapabilities,
  LogLine,
  PublishedPortStatus,
  PullProgress,
  RegistryAuth,
  ServiceChangeResult,
  ServiceInfo,
  ServiceLogsOptions,
  ServiceSpecInput,
  SpecIssue,
  SwarmPort,
  TaskInfo,
  WaitForConvergenceOptions,
} from '../ports/swarm.port';
import { toDockerServiceSpec } from '../swarm/docker-service-spec';
import { validateSpecForHost } from '../swarm/validate-spec-for-host';
import { parseLogFrames } from './docker-log-frames';
import { FAILED_STATES, judgeConvergence, newConvergenceMemory } from './convergence';

export interface DockerodeSwarmAdapterOptions {
  /** A ready dockerode client (e.g. over SSH); otherwise one is made for `socketPath`. */
  docker?: Docker;
  /** Default `/var/run/docker.sock`. */
  socketPath?: string;
  /**
   * Whether the engine's host has IPVS. Default: `/proc/sys/net/ipv4/vs` exists on this machine, which is only right
   * for a local socket: pass a probe for remote engines.
   */
  probeIpvs?: () => boolean | Promise<boolean>;
  /** How long hostCapabilities() is cached for create/update (default 30 s). */
  capabilitiesTtlMs?: number;
  /** How long one Engine API call that is not a stream may take before it fails (default 60 s; 5× that for service create/update). */
  callTimeoutMs?: number;
}

/** The spec does not fit this host (see `issues`); nothing was sent to Docker. */
export class SwarmSpecRejectedError extends Error {
  constructor(readonly issues: SpecIssue[]) {
    super(`Service spec rejected: ${issues.filter((i) => i.level === 'error').map((i) => i.message).join(' ')}`);
    this.name = 'SwarmSpecRejectedError';
  }
}

/** A Docker Engine API call failed; `statusCode` is the HTTP status when there was one. */
export class SwarmEngineError extends Error {
  constructor(message: string, readonly statusCode?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SwarmEngineError';
  }
}

interface DialOptions {
  path: string;
  method: 'GET' | 'POST' | 'DELETE';
  options?: Record<string, unknown>;
  authconfig?: Record<string, string>;
  isStream?: boolean;
  abortSignal?: AbortSignal;
  statusCodes: Record<number, true | string>;
  /** Service create/update: the daemon may first ask the registry for the image digest, which can be slow. */
  slow?: boolean;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- Engine API JSON is read defensively below. */
type Json = any;

const OUT_OF_SEQUENCE = /update out of sequence/i;

export class DockerodeSwarmAdapter implements SwarmPort {
  private readonly docker: Docker;
  private readonly probeIpvs: () => boolean | Promise<boolean>;
  private readonly capsTtlMs: number;
  private readonly callTimeoutMs: number;
  private caps?: { value: HostCapabilities; at: number };

  constructor(options: DockerodeSwarmAdapterOptions = {}) {
    this.docker = options.docker ?? new Docker({ socketPath: options.socketPath ?? '/var/run/docker.sock' });
    this.probeIpvs = options.probeIpvs ?? (() => existsSync('/proc/sys/net/ipv4/vs'));
    this.capsTtlMs = options.capabilitiesTtlMs ?? 30_000;
    this.callTimeoutMs = options.callTimeoutMs ?? 60_000;
  }

  async checkRegistryAuth(auth: RegistryAuth): Promise<{ ok: boolean; message: string }> {
    try {
      const r = (await this.call((o) => this.docker.checkAuth({ username: auth.username, password: auth.password, serveraddress: auth.serveraddress, ...o }))) as { Status?: string };
      return { ok: true, message: r?.Status ?? 'Login Succeeded' };
    } catch (e) {
      const err = toEngineError(e) as Error & { statusCode?: number };
      if (err.statusCode === 401 || err.statusCode === 500 || err.statusCode === 404) return { ok: false, message: err.message };
      throw err;
    }
  }

  async ping(): Promise<boolean> {
    try {
      await this.call((o) => (this.docker as Json).ping(o), Math.min(5000, this.callTimeoutMs));
      return true;
    } catch {
      return false;
    }
  }

  async hostCapabilities(): Promise<HostCapabilities> {
    const [info, version, ipvs] = await Promise.all([
      this.call((o) => (this.docker as Json).info(o)) as Promise<Json>,
      this.call((o) => (this.docker as Json).version(o)) as Promise<Json>,
      Promise.resolve(this.probeIpvs()),
    ]);
    const swarmActive = info?.Swarm?.LocalNodeState === 'active';
    const value: HostCapabilities = {
      ipvs,
      swarmActive,
      nodeCount: swarmActive ? Number(info.Swarm.Nodes ?? 0) : 0,
      engineVersion: String(version?.Version ?? info?.ServerVersion ?? 'unknown'),
      apiVersion: version?.ApiVersion,
    };
    this.caps = { value, at: Date.now() };
    return value;
  }

  async ensureNetwork(name: string, labels: Record<string, string>): Promise<{ id: string; created: boolean; labels: Record<string, string> }> {
    const existing = await this.findNetwork(name);
    if (existing) {
      // A swarm network created a moment ago may be listed before its driver is filled in: ask again by id.
      const driver = existing.Driver || ((await this.dial({ path: `/networks/${encodeURIComponent(existing.Id)}?`, method: 'GET', statusCodes: { 200: true, 404: 'no such network', 500: 'server error' } })) as Json).Driver;
      if (driver && driver !== 'overlay') throw new SwarmEngineError(`Network "${name}" exists with driver ${driver}, not overlay.`);
      return { id: existing.Id, created: false, labels: { ...(existing.Labels ?? {}) } };
    }
    try {
      const res: Json = await this.dial({
        path: '/networks/create',
        method: 'POST',
        options: { Name: name, Driver: 'overlay', Attachable: true, CheckDuplicate: true, Labels: { ...labels } },
        statusCodes: { 201: true, 400: 'bad parameter', 403: 'operation not supported for pre-defined networks', 404: 'plugin not found', 409: 'network exists', 500: 'server error' },
      });
      return { id: res.Id, created: true, labels: { ...labels } };
    } catch (e) {
      if (e instanceof SwarmEngineError && e.statusCode === 409) {
        const again = await this.findNetwork(name);
        if (again) return { id: again.Id, created: false, labels: { ...(again.Labels ?? {}) } };
      }
      throw e;
    }
  }

  /** Removes a network only when it carries the owner's labels (read from the engine first, never taken on trust). */
  async removeNetwork(id: string, owner: Record<string, string>): Promise<'removed' | 'missing' | 'not-owned'> {
    try {
      const net = this.docker.getNetwork(id);
      // dockerode's types omit inspect's options argument (the abort signal); the call takes it.
      const n: Json = await this.call((o) => (net.inspect as unknown as (opts: object) => Promise<Json>).call(net, o));
      const labels = (n?.Labels ?? {}) as Record<string, string>;
      if (Object.keys(owner).length === 0 || !Object.entries(owner).every(([k, v]) => labels[k] === v)) return 'not-owned';
      await this.call((o) => this.docker.getNetwork(id).remove(o));
      return 'removed';
    } catch (e) {
      if (e instanceof SwarmEngineError && e.statusCode === 404) return 'missing';
      throw e;
    }
  }

  async listNetworks(labelFilter: Record<string, string>): Promise<Array<{ id: string; name: string; labels: Record<string, string> }>> {
    const label = Object.entries(labelFilter).map(([k, v]) => (v === '' ? k : `${k}=${v}`));
    const list: Json[] = await this.call((o) => this.docker.listNetworks({ filters: JSON.stringify({ label }), ...o } as object));
    return list.map((n) => ({ id: String(n.Id), name: String(n.Name), labels: (n.Labels ?? {}) as Record<string, string> }));
  }

  async ensureVolume(name: string, labels: Record<string, string>): Promise<{ created: boolean; labels: Record<string, string> }> {
    const existing = await this.inspectVolume(name);
    if (existing) return { created: false, labels: existing };
    // Creating a volume that exists is not an error in Docker (it answers with the existing one, keeping its labels):
    // a create racing another one ends with the labels of whichever came first, read back here.
    await this.call((o) => this.docker.createVolume({ Name: name, Driver: 'local', Labels: { ...labels }, ...o }));
    const got = (await this.inspectVolume(name)) ?? {};
    const created = Object.entries(labels).every(([k, v]) => got[k] === v);
    return { created, labels: got };
  }

  /** A named volume's labels on this engine, or null when it does not exist. */
  private async inspectVolume(name: string): Promise<Record<string, string> | null> {
    try {
      const v: Json = await this.call((o) => this.docker.getVolume(name).inspect(o));
      return v?.Labels ?? {};
    } catch (e) {
      if (e instanceof SwarmEngineError && e.statusCode === 404) return null;
      throw e;
    }
  }

  async listVolumes(labelFilter: Record<string, string>): Promise<Array<{ name: string; labels: Record<string, string> }>> {
    const label = Object.entries(labelFilter).map(([k, v]) => (v === '' ? k : `${k}=${v}`));
    const res: Json = await this.call((o) => this.docker.listVolumes({ filters: JSON.stringify({ label }), ...o } as object));
    return ((res?.Volumes ?? []) as Json[]).map((v) => ({ name: String(v.Name), labels: (v.Labels ?? {}) as Record<string, string> }));
  }

  /** Removes a named volume on this engine only when it carries the owner's labels. Refused (409) while a container uses it. */
  async removeVolume(name: string, owner: Record<string, string>): Promise<'removed' | 'missing' | 'not-owned'> {
    const labels = await this.inspectVolume(name);
    if (!labels) return 'missing';
    if (Object.keys(owner).length === 0 || !Object.entries(owner).every(([k, v]) => labels[k] === v)) return 'not-owned';
    try {
      await this.call((o) => this.docker.getVolume(name).remove(o));
      return 'removed';
    } catch (e) {
      if (e instanceof SwarmEngineError && e.statusCode === 404) return 'missing';
      throw e;
    }
  }

  async pullImage(ref: string, auth: RegistryAuth | undefined, onProgress: (p: PullProgress) => void, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const { fromImage, tag } = splitReference(ref);
    try {
      const stream: NodeJS.ReadableStream = await this.dial({
        path: '/images/create?',
        method: 'POST',
        options: tag ? { fromImage, tag } : { fromImage },
        authconfig: auth && toAuthConfig(auth),
        isStream: true,
        abortSignal: signal,
        statusCodes: { 200: true, 404: 'repository does not exist or no read access', 500: 'server error' },
      });
      let buf = '';
      for await (const chunk of stream as AsyncIterable<Buffer | string>) {
        buf += chunk.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          const ev: Json = JSON.parse(line);
          if (ev.error || ev.errorDetail) throw new SwarmEngineError(`Pulling ${ref} failed: ${ev.errorDetail?.message ?? ev.error}`);
          onProgress({ status: ev.status, id: ev.id, progress: ev.progress, current: ev.progressDetail?.current, total: ev.progressDetail?.total });
        }
      }
    } catch (e) {
      if (signal?.aborted) throw abortError(signal, `Pulling ${ref} was cancelled.`);
      throw e;
    }
    if (signal?.aborted) throw abortError(signal, `Pulling ${ref} was cancelled.`);
  }

  async imageDigest(ref: string): Promise<string> {
    // Raw request (dockerode's image inspect takes no abort signal): the deadline aborts it.
    const img: Json = await this.dial({ path: `/images/${ref}/json?`, method: 'GET', statusCodes: { 200: true, 404: 'no such image', 500: 'server error' } });
    const digests: string[] = img.RepoDigests ?? [];
    // Only a digest of the repository the reference names pins it; one from another repository (the same image pushed
    // elsewhere) does not, and then the local image id is what a deployment records.
    const repo = familiarName(splitReference(ref).fromImage.split('@')[0]);
    return digests.find((d) => familiarName(d.split('@')[0]) === repo) ?? img.Id;
  }

  async createService(input: ServiceSpecInput): Promise<ServiceChangeResult> {
    const { spec, adjustments } = await this.prepare(input);
    const res: Json = await this.dial({
      path: '/services/create',
      method: 'POST',
      options: spec as unknown as Record<string, unknown>,
      authconfig: input.registryAuth && toAuthConfig(input.registryAuth),
      statusCodes: { 200: true, 201: true, 400: 'bad parameter', 403: 'network is not eligible for services', 409: 'name conflicts with an existing service', 500: 'server error', 503: 'node is not part of a swarm' },
      slow: true,
    });
    return { id: res.ID ?? res.Id, adjustments, warnings: res.Warnings ?? [] };
  }

  async updateService(id: string, input: ServiceSpecInput, options: { force?: boolean } = {}): Promise<ServiceChangeResult> {
    const { spec, adjustments } = await this.prepare(input);
    const res = await this.updateWithRetry(id, (current) => {
      const body = structuredClone(spec) as Json;
      const previousForce = Number(current.Spec?.TaskTemplate?.ForceUpdate ?? 0);
      body.TaskTemplate.ForceUpdate = options.force ? previousForce + 1 : previousForce;
      return { body, query: { registryAuthFrom: 'spec' } };
    }, input.registryAuth);
    return { id, adjustments, warnings: res?.Warnings ?? [] };
  }

  async ensureService(input: ServiceSpecInput, owner: Record<string, string>): Promise<EnsureServiceResult> {
    if (Object.keys(owner).length === 0) throw new SwarmEngineError('ensureService needs owner labels to check an existing service against.');
    const { spec, adjustments } = await this.prepare(input);
    const labels = { ...spec.Labels };
    delete labels[SPEC_HASH_LABEL];
    spec.Labels = labels;
    const hash = createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 32);
    spec.Labels = { ...labels, [SPEC_HASH_LABEL]: hash };
    const owned = (current: Json) => Object.entries(owner).every(([k, v]) => current?.Spec?.Labels?.[k] === v);
    const notOwned = () => new SwarmEngineError(`Service "${input.name}" exists but does not carry ${Object.entries(owner).map(([k, v]) => `${k}=${v}`).join(', ')}: Wharf does not touch it.`, 409);
    for (let attempt = 1; ; attempt++) {
      const current = await this.rawService(input.name);
      if (!current) {
        try {
          const res: Json = await this.dial({
            path: '/services/create',
            method: 'POST',
            options: spec as unknown as Record<string, unknown>,
            authconfig: input.registryAuth && toAuthConfig(input.registryAuth),
            statusCodes: { 200: true, 201: true, 400: 'bad parameter', 403: 'network is not eligible for services', 409: 'name conflicts with an existing service', 500: 'server error', 503: 'node is not part of a swarm' },
            slow: true,
          });
          return { id: res.ID ?? res.Id, action: 'created', adjustments, warnings: res.Warnings ?? [] };
        } catch (e) {
          // Created by someone else in the meantime: judge that one.
          if (attempt < 3 && e instanceof SwarmEngineError && e.statusCode === 409) continue;
          throw e;
        }
      }
      if (!owned(current)) throw notOwned();
      if (current.Spec?.Labels?.[SPEC_HASH_LABEL] === hash) return { id: current.ID, action: 'unchanged', adjustments, warnings: [] };
      const res = await this.updateWithRetry(current.ID, (now) => {
        if (!owned(now)) throw notOwned();
        const body = structuredClone(spec) as Json;
        body.TaskTemplate.ForceUpdate = Number(now.Spec?.TaskTemplate?.ForceUpdate ?? 0);
        return { body, query: { registryAuthFrom: 'spec' } };
      }, input.registryAuth);
      return { id: current.ID, action: 'updated', adjustments, warnings: res?.Warnings ?? [] };
    }
  }

  async rollbackService(id: string): Promise<void> {
    await this.updateWithRetry(id, (current) => {
      if (!current.PreviousSpec) throw new SwarmEngineError(`Service ${id} has no previous spec to roll back to.`);
      return { body: current.Spec, query: { rollback: 'previous', registryAuthFrom: 'previous-spec' } };
    });
  }

  async scaleService(id: string, replicas: number): Promise<void> {
    if (!Number.isInteger(replicas) || replicas < 0) throw new SwarmSpecRejectedError([{ level: 'error', code: 'invalid-replicas', message: `Replicas must be a non-negative integer (got ${replicas}).` }]);
    await this.updateWithRetry(id, (current) => {
      const body = structuredClone(current.Spec);
      if (!body.Mode?.Replicated) throw new SwarmEngineError(`Service ${id} is not replicated; it cannot be scaled.`);
      body.Mode.Replicated.Replicas = replicas;
      return { body, query: { registryAuthFrom: 'spec' } };
    });
  }

  async removeService(id: string): Promise<void> {
    try {
      await this.call((o) => this.docker.getService(id).remove(o));
    } catch (e) {
      if (e instanceof SwarmEngineError && e.statusCode === 404) return;
      throw e;
    }
  }

  async inspectService(id: string): Promise<ServiceInfo | null> {
    const raw = await this.rawService(id);
    return raw ? toServiceInfo(raw) : null;
  }

  async listServices(labelFilter: Record<string, string>): Promise<ServiceInfo[]> {
    const label = Object.entries(labelFilter).map(([k, v]) => (v === '' ? k : `${k}=${v}`));
    const list: Json[] = await this.call((o) => this.docker.listServices({ filters: JSON.stringify({ label }), ...o } as object));
    return list.map(toServiceInfo);
  }

  async serviceTasks(id: string): Promise<TaskInfo[]> {
    return this.tasks(id, false);
  }

  async waitForConvergence(id: string, options: WaitForConvergenceOptions): Promise<ConvergenceResult> {
    const { timeoutMs, signal, onEvent } = options;
    const pollMs = options.pollMs ?? 300;
    const maxFailed = options.maxFailedTasks ?? 0;
    const deadline = Date.now() + timeoutMs;
    const emit = (e: ConvergenceEvent) => {
      try {
        onEvent?.(e);
      } catch {
        /* a listener's error must not break the wait */
      }
    };
    const seen = new Map<string, string>();
    // A failed task's container may be gone by the time the failure is reported: keep the last health output seen.
    const healthSeen = new Map<string, string>();
    const memory = newConvergenceMemory();
    let initialUpdate: { state?: string; startedAt?: string } | undefined;
    let lastUpdateState: string | undefined;
    let desired = 0;
    let running = 0;
    // A dockerd restart during the wait: reads fail for a while (no socket, then "not a swarm manager" until the
    // swarm is active again). Retry them with backoff until the deadline instead of failing the deployment at once.
    let outageSince: number | undefined;
    const read = async <T>(fn: () => Promise<T>): Promise<T | typeof ABORTED> => {
      for (let attempt = 0; ; attempt++) {
        try {
          const value = await raceAbort(fn(), signal);
          if (outageSince !== undefined) {
            emit({ type: 'engine', state: 'available', message: `Docker engine answers again after ${((Date.now() - outageSince) / 1000).toFixed(1)} s` });
            outageSince = undefined;
          }
          return value;
        } catch (e) {
          if (!isTransientEngineError(e) || Date.now() >= deadline) throw e;
          if (outageSince === undefined) {
            outageSince = Date.now();
            emit({ type: 'engine', state: 'unavailable', message: `${(e as Error).message}; retrying with backoff until the deadline` });
          }
          const slept = await sleep(Math.min(5000, 250 * 2 ** Math.min(attempt, 5), Math.max(0, deadline - Date.now())), signal);
          if (!slept) return ABORTED;
        }
      }
    };

    const fail = (reason: Extract<ConvergenceResult, { ok: false }>['reason'], message: string, task?: TaskInfo): ConvergenceResult => ({
      ok: false,
      reason,
      message,
      running,
      desired,
      ...(task && {
        task,
        exitCode: task.exitCode,
        taskError: task.error,
        healthOutput: task.health?.lastOutput || healthSeen.get(task.id),
      }),
    });

    for (;;) {
      if (signal?.aborted) return fail('aborted', `Waiting for service ${id} was cancelled.`);
      const raw = await read(() => this.rawService(id));
      if (raw === ABORTED) return fail('aborted', `Waiting for service ${id} was cancelled.`);
      if (!raw) return fail('not-found', `Service ${id} does not exist.`);
      desired = Number(raw.Spec?.Mode?.Replicated?.Replicas ?? 0);

      const us = raw.UpdateStatus as Json;
      const update = us ? { state: us.State, message: us.Message, startedAt: us.StartedAt } : undefined;
      if (initialUpdate === undefined) initialUpdate = { state: us?.State, startedAt: us?.StartedAt };
      if (us?.State && us.State !== lastUpdateState) {
        lastUpdateState = us.State;
        emit({ type: 'update-status', state: us.State, message: us.Message });
      }

      const tasks = await read(() => this.tasks(id, true));
      if (tasks === ABORTED) return fail('aborted', `Waiting for service ${id} was cancelled.`);
      for (const t of tasks) {
        if (t.health?.lastOutput) healthSeen.set(t.id, t.health.lastOutput);
        const key = `${t.state}/${t.desiredState}/${t.error ?? ''}/${t.message ?? ''}`;
        if (seen.get(t.id) !== key) {
          seen.set(t.id, key);
          emit({ type: 'task', taskId: t.id, slot: t.slot, state: t.state, desiredState: t.desiredState, message: t.message, error: t.error });
        }
      }
      // The judgement is pure (convergence.ts); this loop only observes, reports and fetches details for the message.
      const hasHealthcheck = isHealthchecked(raw.Spec?.TaskTemplate?.ContainerSpec?.Healthcheck);
      const v = judgeConvergence(
        { now: Date.now(), deadline, desired, update, initialUpdate, tasks, stableMs: options.stableMs ?? (hasHealthcheck ? 0 : 1_000), maxFailedTasks: maxFailed },
        memory,
      );
      if (v.running !== running) {
        running = v.running;
        emit({ type: 'progress', running, desired });
      }
      switch (v.verdict) {
        case 'ok':
          return { ok: true, running, desired, tasks };
        case 'failed':
          return fail(v.reason, describeTaskFailure(v.task, v.reason === 'unhealthy'), v.task);
        case 'paused': {
          const task = await this.taskFromStatusMessage(raw.ID, us.Message, [...seen.keys()]);
          return fail('update-paused', `Swarm paused the ${v.what}: ${us.Message ?? 'no message'}${task ? ` (${describeTaskFailure(task, true)})` : ''}`, task);
        }
        case 'rolled-back': {
          const task = await this.taskFromStatusMessage(raw.ID, us.Message, [...seen.keys()]);
          return fail('rolled-back', `Swarm rolled the update back: ${us.Message ?? 'no message'}${task ? ` (${describeTaskFailure(task, true)})` : ''}`, task);
        }
        case 'timeout': {
          if (v.converged) return fail('timeout', `Timed out after ${timeoutMs} ms: ${running}/${desired} tasks running but not yet stable.`);
          const detail = v.pending.map((t) => `task ${t.id.slice(0, 12)} ${t.state}${t.error ? `: ${t.error}` : t.message ? ` (${t.message})` : ''}${t.health?.lastOutput ? `; health: ${t.health.lastOutput.trim()}` : ''}`).join('; ');
          const status = us?.State ? `; Swarm ${us.State.replace('_', ' ')}${us.Message ? ` (${us.Message})` : ''}` : '';
          return fail('timeout', `Timed out after ${timeoutMs} ms: ${running}/${desired} tasks running${detail ? `; ${detail}` : ''}${status}.`, v.pending[0]);
        }
        case 'pending':
          for (const t of v.rejectedWhileEngineStarting) {
            emit({ type: 'engine', state: 'available', message: `Task ${t.id.slice(0, 12)} was rejected while the engine's swarm was starting (${t.error}); Swarm replaces it` });
          }
      }
      const slept = await sleep(Math.min(pollMs, Math.max(0, deadline - Date.now())), signal);
      if (!slept) return fail('aborted', `Waiting for service ${id} was cancelled.`);
    }
  }

  async *serviceLogs(id: string, options: ServiceLogsOptions): AsyncIterable<LogLine> {
    const { signal } = options;
    if (signal?.aborted) return;
    const query: Record<string, unknown> = { stdout: true, stderr: true, timestamps: true, follow: !!options.follow };
    query.tail = options.tail === undefined ? 'all' : String(options.tail);
    if (options.since !== undefined) query.since = options.since instanceof Date ? (options.since.getTime() / 1000).toFixed(3) : String(options.since);
    let stream: NodeJS.ReadableStream & { destroy?: () => void };
    try {
      stream = await this.dial({
        path: `/services/${encodeURIComponent(id)}/logs?`,
        method: 'GET',
        options: query,
        isStream: true,
        abortSignal: signal,
        statusCodes: { 200: true, 404: 'no such service', 500: 'server error', 503: 'node is not part of a swarm' },
      });
    } catch (e) {
      if (signal?.aborted) return;
      throw e;
    }
    try {
      for await (const line of parseLogFrames(stream as AsyncIterable<Buffer>)) yield line;
    } catch (e) {
      if (signal?.aborted) return;
      throw e;
    } finally {
      stream.destroy?.();
    }
  }

  // ---------------------------------------------------------------------------------------------------------------

  private async prepare(input: ServiceSpecInput) {
    const caps = this.caps && Date.now() - this.caps.at < this.capsTtlMs ? this.caps.value : await this.hostCapabilities();
    const checked = validateSpecForHost(input, caps);
    if (!checked.ok) throw new SwarmSpecRejectedError(checked.issues);
    return { spec: toDockerServiceSpec(checked.spec), adjustments: checked.issues };
  }

  private async updateWithRetry(
    id: string,
    build: (current: Json) => { body: Json; query: Record<string, string> },
    auth?: RegistryAuth,
  ): Promise<Json> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.rawService(id);
      if (!current) throw new SwarmEngineError(`Service ${id} does not exist.`, 404);
      const { body, query } = build(current);
      try {
        return await this.dial({
          path: `/services/${encodeURIComponent(id)}/update?`,
          method: 'POST',
          options: { _query: { version: current.Version.Index, ...query }, _body: body },
          authconfig: auth && toAuthConfig(auth),
          statusCodes: { 200: true, 400: 'bad parameter', 404: 'no such service', 500: 'server error', 503: 'node is not part of a swarm' },
          slow: true,
        });
      } catch (e) {
        // Someone else updated the service between our inspect and update: read the new version and try again.
        if (attempt < 5 && e instanceof SwarmEngineError && OUT_OF_SEQUENCE.test(e.message)) continue;
        throw e;
      }
    }
  }

  private async rawService(id: string): Promise<Json | null> {
    try {
      return await this.call((o) => this.docker.getService(id).inspect(o));
    } catch (e) {
      if (e instanceof SwarmEngineError && e.statusCode === 404) return null;
      throw e;
    }
  }

  private async tasks(serviceId: string, upToDateOnly: boolean): Promise<TaskInfo[]> {
    const filters: Record<string, string[]> = { service: [serviceId] };
    // `_up-to-date` is the filter the docker CLI uses to follow a rollout: only tasks of the current service spec.
    if (upToDateOnly) filters['_up-to-date'] = ['true'];
    const raw: Json[] = await this.call((o) => this.docker.listTasks({ filters: JSON.stringify(filters), ...o } as object));
    // Service filter matches names too (prefix): keep only this service's tasks.
    const own = raw.filter((t) => t.ServiceID === serviceId || !/^[a-z0-9]{25}$/.test(serviceId));
    const tasks = await Promise.all(own.map((t) => this.toTaskInfo(t)));
    return tasks.sort((a, b) => (a.slot ?? 0) - (b.slot ?? 0) || (b.createdAt ?? '').localeCompare(a.createdAt ?? ''));
  }

  private async toTaskInfo(t: Json): Promise<TaskInfo> {
    const cs = t.Status?.ContainerStatus ?? {};
    // The engine lists a host-mode port once per address family: keep one of each.
    const ports = new Map<string, PublishedPortStatus>();
    for (const p of t.Status?.PortStatus?.Ports ?? []) {
      ports.set(`${p.TargetPort}/${p.PublishedPort}/${p.Protocol}/${p.PublishMode}`, { target: p.TargetPort, published: p.PublishedPort, protocol: p.Protocol, mode: p.PublishMode });
    }
    const info: TaskInfo = {
      id: t.ID,
      serviceId: t.ServiceID,
      slot: t.Slot,
      nodeId: t.NodeID || undefined,
      state: t.Status?.State ?? 'unknown',
      desiredState: t.DesiredState,
      message: t.Status?.Message || undefined,
      error: t.Status?.Err || undefined,
      exitCode: typeof cs.ExitCode === 'number' && (t.Status?.State === 'failed' || t.Status?.State === 'complete' || cs.ExitCode !== 0) ? cs.ExitCode : undefined,
      containerId: cs.ContainerID || undefined,
      createdAt: t.CreatedAt,
      updatedAt: t.UpdatedAt,
      timestamp: t.Status?.Timestamp,
      specVersion: t.Version?.Index,
      image: t.Spec?.ContainerSpec?.Image,
      ports: [...ports.values()],
    };
    if (info.containerId && isHealthchecked(t.Spec?.ContainerSpec?.Healthcheck)) {
      try {
        const c: Json = await this.call((o) => this.docker.getContainer(info.containerId!).inspect(o));
        const h = c.State?.Health;
        if (h) {
          // The probe's own output tells why it failed; a probe that raced the container's stop only says the engine
          // could not exec, so the latest output of a probe that really ran is preferred.
          const log = (h.Log ?? []) as Array<{ Output?: string; ExitCode?: number }>;
          const ran = log.filter((l) => (l.Output ?? '').trim() !== '' && !/cannot exec in a stopped state|container .* is not running|OCI runtime exec failed/i.test(l.Output ?? ''));
          const failedRuns = ran.filter((l) => l.ExitCode !== 0);
          const last = failedRuns[failedRuns.length - 1] ?? ran[ran.length - 1] ?? log[log.length - 1];
          info.health = { status: h.Status, failingStreak: h.FailingStreak ?? 0, lastOutput: last?.Output, lastExitCode: last?.ExitCode };
        }
      } catch {
        /* the container runs on another node or is gone: no health detail */
      }
    }
    return info;
  }

  /**
   * The task named in an UpdateStatus message ("… early termination of task <id>"), else the latest failed one among
   * the tasks this wait saw (a rollback makes them no longer up to date, so they are read one by one).
   */
  private async taskFromStatusMessage(serviceId: string, message: string | undefined, seenIds: string[]): Promise<TaskInfo | undefined> {
    const named = /task ([a-z0-9]{25})\b/.exec(message ?? '')?.[1];
    const ids = named ? [named] : seenIds.slice(-20);
    const tasks: TaskInfo[] = [];
    for (const id of ids) {
      try {
        const t: Json = await this.call((o) => this.docker.getTask(id).inspect(o));
        if (t.ServiceID === serviceId) tasks.push(await this.toTaskInfo(t));
      } catch {
        /* gone already */
      }
    }
    return named ? tasks[0] : mostRecentFailed(tasks);
  }

  private async findNetwork(name: string): Promise<Json | undefined> {
    const list: Json[] = await this.call((o) => this.docker.listNetworks({ filters: JSON.stringify({ name: [name] }), ...o } as object));
    return list.find((n) => n.Name === name);
  }

  /**
   * A raw Engine API request. Streams (pull, logs) end through their abort signals; other requests get a deadline that
   * aborts the request itself (its socket is closed), not only the wait for it.
   */
  private dial<T = Json>(opts: DialOptions): Promise<T> {
    const { slow, ...request } = opts;
    const send = (req: Omit<DialOptions, 'slow'>) =>
      new Promise<T>((resolve, reject) => {
        this.docker.modem.dial(req as Json, (err: Json, data: Json) => (err ? reject(toEngineError(err)) : resolve(data)));
      });
    if (opts.isStream) return send(request);
    const deadline = new AbortController();
    const answer = send({ ...request, abortSignal: request.abortSignal ? AbortSignal.any([request.abortSignal, deadline.signal]) : deadline.signal });
    return withDeadline(answer, slow ? 5 * this.callTimeoutMs : this.callTimeoutMs).finally(() => deadline.abort());
  }

  /**
   * One short Engine API call (not a stream): its errors become SwarmEngineErrors, and it gives up after callTimeoutMs
   * (or `ms`). `fn` passes the abort signal to dockerode, so the deadline aborts the request itself: a hung engine
   * does not keep a socket and a pending request per call.
   */
  private async call<T>(fn: (opts: { abortSignal: AbortSignal }) => Promise<T>, ms = this.callTimeoutMs): Promise<T> {
    const deadline = new AbortController();
    try {
      return await withDeadline(fn({ abortSignal: deadline.signal }), ms);
    } catch (e) {
      throw toEngineError(e);
    } finally {
      // A no-op for a request that answered; tears down one still open past its deadline.
      deadline.abort();
    }
  }
}

const ABORTED = Symbol('aborted');

function raceAbort<T>(p: Promise<T>, signal?: AbortSignal): Promise<T | typeof ABORTED> {
  if (!signal) return p;
  if (signal.aborted) return Promise.resolve(ABORTED);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** Resolves true after `ms`, false as soon as the signal aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function isHealthchecked(hc: Json): boolean {
  return Array.isArray(hc?.Test) && hc.Test.length > 0 && hc.Test[0] !== 'NONE';
}

function mostRecentFailed(tasks: TaskInfo[]): TaskInfo | undefined {
  return tasks.filter((t) => FAILED_STATES.has(t.state)).sort((a, b) => (b.timestamp ?? '').localeCompare(a.timestamp ?? ''))[0];
}

function describeTaskFailure(t: TaskInfo, unhealthy: boolean): string {
  const parts = [`Task ${t.id.slice(0, 12)} (slot ${t.slot ?? '-'}) ${t.state}`];
  if (t.exitCode !== undefined) parts.push(`exit code ${t.exitCode}`);
  if (t.error) parts.push(t.error);
  if (unhealthy && t.health?.lastOutput) parts.push(`last health check output: ${t.health.lastOutput.trim()}`);
  return parts.join(': ');
}

function toServiceInfo(s: Json): ServiceInfo {
  return {
    id: s.ID,
    name: s.Spec?.Name,
    version: s.Version?.Index,
    image: s.Spec?.TaskTemplate?.ContainerSpec?.Image,
    labels: s.Spec?.Labels ?? {},
    replicas: s.Spec?.Mode?.Replicated?.Replicas,
    endpointMode: s.Spec?.EndpointSpec?.Mode ?? s.Endpoint?.Spec?.Mode,
    createdAt: s.CreatedAt,
    updatedAt: s.UpdatedAt,
    ...(s.UpdateStatus && {
      updateStatus: { state: s.UpdateStatus.State, message: s.UpdateStatus.Message, startedAt: s.UpdateStatus.StartedAt, completedAt: s.UpdateStatus.CompletedAt },
    }),
    spec: s.Spec,
    ...(s.PreviousSpec && { previousSpec: s.PreviousSpec }),
  };
}

function toAuthConfig(auth: RegistryAuth): Record<string, string> {
  return { username: auth.username, password: auth.password, serveraddress: auth.serveraddress };
}

/** `host:5000/a/b:tag` → fromImage `host:5000/a/b`, tag `tag`; digests stay in fromImage; no tag → `latest`. */
export function splitReference(ref: string): { fromImage: string; tag?: string } {
  if (ref.includes('@')) return { fromImage: ref };
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return { fromImage: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { fromImage: ref, tag: 'latest' };
}

/** `docker.io/library/busybox` and `busybox` name the same repository (RepoDigests use the short form). */
function familiarName(repo: string): string {
  return repo.replace(/^(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)\//, '').replace(/^library\//, '');
}

function abortError(signal: AbortSignal, message: string): Error {
  const e = new Error(message, { cause: signal.reason });
  e.name = 'AbortError';
  return e;
}

/**
 * A dockerd that accepted the connection but never answers (it is restarting, or stuck) must not hold a deployment
 * step or a maintenance job forever: short calls fail after `ms`. Streams (pull, logs) have their own signals.
 */
function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SwarmEngineError(`Docker engine: no answer within ${ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`}`)), ms);
    timer.unref?.();
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Errors that say the engine is not there for now, not that the request is wrong: no socket or a dropped connection
 * (no status code), no answer in time, or a manager that is not (yet) part of an active swarm (503).
 */
export function isTransientEngineError(e: unknown): boolean {
  if (!(e instanceof SwarmEngineError)) return false;
  if (e.statusCode === undefined) return true;
  return e.statusCode === 503 || (e.statusCode === 500 && /not a swarm manager|does not have a leader|context deadline exceeded/i.test(e.message));
}

function toEngineError(e: unknown): Error {
  if (e instanceof SwarmEngineError || (e instanceof Error && e.name === 'AbortError')) return e;
  const err = e as Json;
  const statusCode: number | undefined = err?.statusCode;
  const detail: string | undefined = err?.json?.message ?? (typeof err?.json === 'string' ? err.json : undefined);
  const message = detail ? `Docker engine: ${detail}` : `Docker engine: ${err?.message ?? String(e)}`;
  return new SwarmEngineError(message.trim(), statusCode, { cause: e });
}
