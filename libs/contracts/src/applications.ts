/** The application model shared by the API, the worker and the portal. Times in milliseconds. */
export const DEPLOYMENT_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'superseded'] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];
export const FINISHED_STATUSES: readonly DeploymentStatus[] = ['succeeded', 'failed', 'cancelled', 'superseded'];

export const DEPLOYMENT_KINDS = ['deploy', 'redeploy', 'rollback', 'stop', 'start', 'restart', 'scale'] as const;
export type DeploymentKind = (typeof DEPLOYMENT_KINDS)[number];

export interface PortSpec {
  target: number;
  /** Omitted in host mode: the engine picks a free port per task. */
  published?: number;
  protocol: 'tcp' | 'udp';
  mode: 'ingress' | 'host';
}

export interface HealthcheckSpec {
  /** argv form: ['CMD', 'prog', 'arg'] or ['CMD-SHELL', '…'] (the container's own shell) or ['NONE']. */
  test: string[];
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  startPeriodMs: number;
}

export interface UpdatePolicySpec {
  parallelism: number;
  order: 'start-first' | 'stop-first';
  failureAction: 'pause' | 'continue' | 'rollback';
  monitorMs: number;
}

export interface MountSpec {
  type: 'volume' | 'bind';
  source: string;
  target: string;
  readOnly: boolean;
}

export interface ApplicationSpec {
  image: string;
  registryId: string | null;
  command: string[] | null;
  args: string[] | null;
  replicas: number;
  resources: { cpuLimit: number | null; memoryLimitMb: number | null; cpuReservation: number | null; memoryReservationMb: number | null };
  ports: PortSpec[];
  healthcheck: HealthcheckSpec | null;
  restartPolicy: { condition: 'none' | 'on-failure' | 'any'; delayMs: number; maxAttempts: number };
  update: UpdatePolicySpec;
  rollback: UpdatePolicySpec;
  constraints: string[];
  labels: Record<string, string>;
  mounts: MountSpec[];
  stopGracePeriodMs: number;
  /** Per-deployment timeout for reaching the running state. */
  deployTimeoutMs: number;
}

export const DEFAULT_UPDATE_POLICY: UpdatePolicySpec = { parallelism: 1, order: 'start-first', failureAction: 'rollback', monitorMs: 5000 };
export const DEFAULT_ROLLBACK_POLICY: UpdatePolicySpec = { parallelism: 1, order: 'stop-first', failureAction: 'pause', monitorMs: 5000 };

export type RuntimeState = 'running' | 'degraded' | 'stopped' | 'missing' | 'deploying' | 'unknown';

/** The update or rollback order a deployment really uses on a host, and why it differs from the chosen one. */
export interface EffectiveOrder {
  chosen: UpdatePolicySpec['order'];
  effective: UpdatePolicySpec['order'];
  /** Why the effective order differs from the chosen one; null when they are the same. */
  reason: string | null;
}

/**
 * A fixed host-mode port is bound once per node: a start-first update/rollback on a single node never converges (the
 * new task waits for the port the old one holds), so stop-first is used. `ports` are the ports as published on the
 * host (ingress ports already turned into host ports where the host has no IPVS). Pure; shared by the worker's spec
 * validation and the API's application view, so what the screen says is what the deployment does.
 */
export function effectiveOrder(
  chosen: UpdatePolicySpec['order'], ports: ReadonlyArray<Pick<PortSpec, 'mode' | 'published' | 'protocol'>>, nodeCount: number, label: 'update' | 'rollback',
): EffectiveOrder {
  const fixed = ports.filter((p) => p.mode === 'host' && p.published);
  if (chosen !== 'start-first' || fixed.length === 0 || Math.max(nodeCount, 1) !== 1) return { chosen, effective: chosen, reason: null };
  const list = fixed.map((p) => `${p.published}/${p.protocol}`).join(', ');
  return {
    chosen,
    effective: 'stop-first',
    reason: `The ${label} order is stop-first instead of start-first: the service publishes host-mode port ${list} on a single node, so a new task could not bind it while the old one runs and the ${label} would never converge.`,
  };
}
