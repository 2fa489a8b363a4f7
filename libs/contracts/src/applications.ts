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
