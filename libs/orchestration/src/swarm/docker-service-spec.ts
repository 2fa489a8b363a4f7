import type { ServiceSpecInput, UpdateConfigInput } from '../ports/swarm.port';

/** The subset of the Engine API (1.41) `ServiceSpec` Wharf writes. Plain JSON: what goes over the wire. */
export interface DockerServiceSpec {
  Name: string;
  Labels: Record<string, string>;
  TaskTemplate: {
    ContainerSpec: {
      Image: string;
      Command?: string[];
      Args?: string[];
      Env: string[];
      Labels: Record<string, string>;
      Mounts?: { Type: 'volume' | 'bind'; Source: string; Target: string; ReadOnly: boolean; VolumeOptions?: { Labels: Record<string, string> } }[];
      StopGracePeriod?: number;
      Healthcheck?: { Test: string[]; Interval: number; Timeout: number; Retries: number; StartPeriod: number };
    };
    Resources?: {
      Limits?: { NanoCPUs?: number; MemoryBytes?: number };
      Reservations?: { NanoCPUs?: number; MemoryBytes?: number };
    };
    RestartPolicy?: { Condition: string; Delay?: number; MaxAttempts?: number; Window?: number };
    Placement?: { Constraints: string[] };
    Networks?: { Target: string }[];
    ForceUpdate?: number;
  };
  Mode: { Replicated: { Replicas: number } };
  UpdateConfig?: DockerUpdateConfig;
  RollbackConfig?: DockerUpdateConfig;
  EndpointSpec: {
    Mode: 'vip' | 'dnsrr';
    Ports?: { Protocol: 'tcp' | 'udp'; TargetPort: number; PublishedPort?: number; PublishMode: 'ingress' | 'host' }[];
  };
}

interface DockerUpdateConfig {
  Parallelism: number;
  Delay?: number;
  FailureAction: string;
  Monitor: number;
  MaxFailureRatio?: number;
  Order: 'start-first' | 'stop-first';
}

const NS_PER_MS = 1_000_000;
const HEALTH_KINDS = new Set(['CMD', 'CMD-SHELL', 'NONE']);

/** Milliseconds → the integer nanoseconds Docker's duration fields take. */
export function msToNs(ms: number): number {
  return Math.round(ms * NS_PER_MS);
}

/**
 * ServiceSpecInput → Docker `ServiceSpec` JSON. Pure and lossless for strings: env values, labels and argv elements
 * are copied verbatim (no shell, no quoting, no interpolation). `registryAuth` is not part of the spec (it travels in
 * the X-Registry-Auth header).
 */
export function toDockerServiceSpec(input: ServiceSpecInput): DockerServiceSpec {
  const containerSpec: DockerServiceSpec['TaskTemplate']['ContainerSpec'] = {
    Image: input.image,
    Env: Object.entries(input.env).map(([k, v]) => `${k}=${v}`),
    Labels: { ...input.labels },
  };
  if (input.command) containerSpec.Command = [...input.command];
  if (input.args) containerSpec.Args = [...input.args];
  if (input.mounts.length > 0) {
    containerSpec.Mounts = input.mounts.map((m) => ({
      Type: m.type, Source: m.source, Target: m.target, ReadOnly: m.readOnly,
      ...(m.type === 'volume' && m.labels ? { VolumeOptions: { Labels: { ...m.labels } } } : {}),
    }));
  }
  if (input.stopGracePeriodMs !== undefined) containerSpec.StopGracePeriod = msToNs(input.stopGracePeriodMs);
  if (input.healthcheck) {
    const h = input.healthcheck;
    containerSpec.Healthcheck = {
      Test: HEALTH_KINDS.has(h.test[0]) ? [...h.test] : ['CMD', ...h.test],
      Interval: msToNs(h.intervalMs),
      Timeout: msToNs(h.timeoutMs),
      Retries: h.retries,
      StartPeriod: msToNs(h.startPeriodMs),
    };
  }

  const spec: DockerServiceSpec = {
    Name: input.name,
    Labels: { ...input.labels },
    TaskTemplate: { ContainerSpec: containerSpec },
    Mode: { Replicated: { Replicas: input.replicas } },
    EndpointSpec: { Mode: input.endpointMode },
  };
  const tt = spec.TaskTemplate;
  if (input.resources) {
    const amount = (a?: { nanoCpus?: number; memoryBytes?: number }) =>
      a ? { ...(a.nanoCpus !== undefined && { NanoCPUs: a.nanoCpus }), ...(a.memoryBytes !== undefined && { MemoryBytes: a.memoryBytes }) } : undefined;
    tt.Resources = {};
    if (input.resources.limits) tt.Resources.Limits = amount(input.resources.limits);
    if (input.resources.reservations) tt.Resources.Reservations = amount(input.resources.reservations);
  }
  if (input.restartPolicy) {
    const r = input.restartPolicy;
    tt.RestartPolicy = {
      Condition: r.condition,
      ...(r.delayMs !== undefined && { Delay: msToNs(r.delayMs) }),
      ...(r.maxAttempts !== undefined && { MaxAttempts: r.maxAttempts }),
      ...(r.windowMs !== undefined && { Window: msToNs(r.windowMs) }),
    };
  }
  if (input.constraints.length > 0) tt.Placement = { Constraints: [...input.constraints] };
  if (input.networks.length > 0) tt.Networks = input.networks.map((n) => ({ Target: n }));
  if (input.updateConfig) spec.UpdateConfig = updateConfig(input.updateConfig);
  if (input.rollbackConfig) spec.RollbackConfig = updateConfig(input.rollbackConfig);
  if (input.ports.length > 0) {
    spec.EndpointSpec.Ports = input.ports.map((p) => ({
      Protocol: p.protocol,
      TargetPort: p.target,
      ...(p.published ? { PublishedPort: p.published } : {}),
      PublishMode: p.mode,
    }));
  }
  return spec;
}

function updateConfig(c: UpdateConfigInput): DockerUpdateConfig {
  return {
    Parallelism: c.parallelism,
    ...(c.delayMs !== undefined && { Delay: msToNs(c.delayMs) }),
    FailureAction: c.failureAction,
    Monitor: msToNs(c.monitorMs),
    ...(c.maxFailureRatio !== undefined && { MaxFailureRatio: c.maxFailureRatio }),
    Order: c.order,
  };
}
