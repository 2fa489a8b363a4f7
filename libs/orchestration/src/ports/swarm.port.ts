/**
 * The Docker Swarm port: what the deployment engine, the reconciler and the server status page need from a Swarm
 * cluster. Framework-free on purpose (no Nest, no dockerode types), so handlers can be tested with a fake.
 *
 * Times are milliseconds, CPU is in nano CPUs (1 CPU = 1e9), memory in bytes.
 */

/** Injection token for the port (a plain symbol keeps this file framework-free). */
export const SWARM_PORT = Symbol('SwarmPort');

export type PortProtocol = 'tcp' | 'udp';
/** `ingress` needs the routing mesh (IPVS); `host` binds the port on the node that runs the task. */
export type PublishMode = 'ingress' | 'host';
/** `vip` needs IPVS; `dnsrr` resolves the service name to the task IPs (round-robin). */
export type EndpointMode = 'vip' | 'dnsrr';
export type UpdateOrder = 'start-first' | 'stop-first';

export interface PublishedPortInput {
  /** Port inside the container. */
  target: number;
  /**
   * Port on the host (host mode) or on the routing mesh (ingress). Leave out (or 0) in host mode to let the engine pick
   * a free port per task (read it back from `TaskInfo.ports`): the only way several replicas fit on one node.
   */
  published?: number;
  protocol: PortProtocol;
  mode: PublishMode;
}

export interface ResourceAmount {
  nanoCpus?: number;
  memoryBytes?: number;
}

export interface ResourcesInput {
  limits?: ResourceAmount;
  reservations?: ResourceAmount;
}

export interface HealthcheckInput {
  /** Docker form: `['CMD', 'prog', 'arg', …]`, `['CMD-SHELL', 'command line']` or `['NONE']`. A bare argv gets `CMD` prepended. */
  test: string[];
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  startPeriodMs: number;
}

export interface RestartPolicyInput {
  condition: 'none' | 'on-failure' | 'any';
  delayMs?: number;
  /** 0 = unlimited. */
  maxAttempts?: number;
  windowMs?: number;
}

export interface UpdateConfigInput {
  parallelism: number;
  order: UpdateOrder;
  /** `rollback` is accepted for updates only (a rollback cannot roll back). */
  failureAction: 'pause' | 'continue' | 'rollback';
  /** How long Swarm watches each updated task for failure. */
  monitorMs: number;
  /** Fraction of tasks that may fail during an update (0–1). */
  maxFailureRatio?: number;
  delayMs?: number;
}

export interface MountInput {
  type: 'volume' | 'bind';
  /** The engine volume name (or the host path of a bind mount). */
  source: string;
  target: string;
  readOnly: boolean;
  /** Labels for a volume the engine creates on a node where it is missing (Swarm's `VolumeOptions.Labels`). */
  labels?: Record<string, string>;
}

/** Credentials for a registry (never logged). */
export interface RegistryAuth {
  username: string;
  password: string;
  /** Registry host, e.g. `registry.example.com` or `127.0.0.1:5000`. */
  serveraddress: string;
}

export interface ServiceSpecInput {
  /** Swarm service name (a DNS label: `[a-zA-Z0-9][a-zA-Z0-9-]*`, at most 63 characters). */
  name: string;
  image: string;
  /** Replaces the image's ENTRYPOINT (argv, never a shell string). */
  command?: string[];
  /** Replaces the image's CMD (argv). */
  args?: string[];
  env: Record<string, string>;
  /** Service labels, also put on the containers. `wharf.*` labels are the caller's business. */
  labels: Record<string, string>;
  replicas: number;
  resources?: ResourcesInput;
  ports: PublishedPortInput[];
  healthcheck?: HealthcheckInput;
  restartPolicy?: RestartPolicyInput;
  updateConfig?: UpdateConfigInput;
  rollbackConfig?: UpdateConfigInput;
  /** Placement constraints, e.g. `node.role==manager`. */
  constraints: string[];
  mounts: MountInput[];
  /** Network names (or ids) the tasks join. */
  networks: string[];
  stopGracePeriodMs?: number;
  endpointMode: EndpointMode;
  /** Sent with create/update so every node can pull a private image; not stored in the spec. */
  registryAuth?: RegistryAuth;
}

export interface HostCapabilities {
  /** IPVS present (VIP and the ingress routing mesh work). */
  ipvs: boolean;
  swarmActive: boolean;
  /** Nodes in the swarm (0 when swarm mode is not active). */
  nodeCount: number;
  engineVersion: string;
  apiVersion?: string;
}

/** A problem with a spec on a given host: `error` refuses it, `adjusted` says what was changed and why. */
export interface SpecIssue {
  level: 'error' | 'adjusted' | 'warning';
  code: string;
  message: string;
}

export interface HostValidationResult {
  /** The spec after the adjustments (a copy; the input is never modified). */
  spec: ServiceSpecInput;
  issues: SpecIssue[];
  /** True when no issue has level `error`. */
  ok: boolean;
}

export interface ServiceChangeResult {
  id: string;
  /** Adjustments applied for this host (e.g. vip → dnsrr without IPVS); meant for the deployment log. */
  adjustments: SpecIssue[];
  /** Engine warnings returned by create/update. */
  warnings: string[];
}

export interface EnsureServiceResult extends ServiceChangeResult {
  action: 'created' | 'updated' | 'unchanged';
}

/** The label ensureService keeps on a service: a hash of the spec it was last given. */
export const SPEC_HASH_LABEL = 'wharf.spec-hash';

export interface PublishedPortStatus {
  target: number;
  published: number;
  protocol: PortProtocol;
  mode: PublishMode;
}

export interface TaskInfo {
  id: string;
  serviceId: string;
  slot?: number;
  nodeId?: string;
  /** Swarm task state: new, pending, assigned, accepted, preparing, starting, running, complete, failed, shutdown, rejected, orphaned, remove. */
  state: string;
  desiredState: string;
  message?: string;
  error?: string;
  exitCode?: number;
  containerId?: string;
  createdAt?: string;
  updatedAt?: string;
  /** State timestamp (when the task reached `state`). */
  timestamp?: string;
  /** Spec version of the service the task was created for. */
  specVersion?: number;
  image?: string;
  ports: PublishedPortStatus[];
  /** Container health when the container is on the local engine and has a healthcheck. */
  health?: { status: string; failingStreak: number; lastOutput?: string; lastExitCode?: number };
}

export interface ServiceInfo {
  id: string;
  name: string;
  version: number;
  image: string;
  labels: Record<string, string>;
  replicas?: number;
  endpointMode?: EndpointMode;
  createdAt: string;
  updatedAt: string;
  updateStatus?: { state: string; message?: string; startedAt?: string; completedAt?: string };
  /** The raw Docker spec (for comparisons; read-only). */
  spec: Record<string, unknown>;
  previousSpec?: Record<string, unknown>;
}

export type ConvergenceEvent =
  | { type: 'task'; taskId: string; slot?: number; state: string; desiredState: string; message?: string; error?: string }
  | { type: 'update-status'; state: string; message?: string }
  | { type: 'progress'; running: number; desired: number }
  /** The engine stopped answering (restart, swarm not yet active again) and the wait retries with backoff; then it is back. */
  | { type: 'engine'; state: 'unavailable' | 'available'; message: string };

export interface WaitForConvergenceOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  onEvent?: (event: ConvergenceEvent) => void;
  /** Polling period (default 300 ms). */
  pollMs?: number;
  /**
   * How long the same tasks must stay running before the wait succeeds (a process that exits at once is "running"
   * for a moment). Default: 0 when the service has a health check (healthy already proves it), else 1000 ms.
   */
  stableMs?: number;
  /** Failed tasks of the current spec tolerated before giving up (default 0: the first failure ends the wait). */
  maxFailedTasks?: number;
}

export type ConvergenceFailureReason = 'task-failed' | 'unhealthy' | 'update-paused' | 'rolled-back' | 'timeout' | 'aborted' | 'not-found';

export type ConvergenceResult =
  | { ok: true; running: number; desired: number; tasks: TaskInfo[] }
  | {
      ok: false;
      reason: ConvergenceFailureReason;
      message: string;
      running: number;
      desired: number;
      exitCode?: number;
      taskError?: string;
      healthOutput?: string;
      task?: TaskInfo;
    };

export interface ServiceLogsOptions {
  tail?: number;
  /** Only lines after this time (Date or Unix seconds). */
  since?: Date | number;
  follow?: boolean;
  signal?: AbortSignal;
}

export interface LogLine {
  stream: 'stdout' | 'stderr';
  line: string;
  time: Date;
}

export interface PullProgress {
  status?: string;
  id?: string;
  progress?: string;
  current?: number;
  total?: number;
}

export interface SwarmPort {
  ping(): Promise<boolean>;
  /** Logs in to a registry through the Engine API (`POST /auth`); never through a shell. */
  checkRegistryAuth(auth: RegistryAuth): Promise<{ ok: boolean; message: string }>;
  hostCapabilities(): Promise<HostCapabilities>;
  /**
   * An attachable overlay network; returns the existing one when the name exists, with the labels it carries (the
   * caller checks who owns it before using it: an existing network keeps its own labels).
   */
  ensureNetwork(name: string, labels: Record<string, string>): Promise<{ id: string; created: boolean; labels: Record<string, string> }>;
  removeNetwork(id: string, owner: Record<string, string>): Promise<'removed' | 'missing' | 'not-owned'>;
  /** Networks carrying all the given labels (value `''` means "has the label"). */
  listNetworks(labelFilter: Record<string, string>): Promise<Array<{ id: string; name: string; labels: Record<string, string> }>>;
  /**
   * Creates the named volume with these labels when it is missing; otherwise leaves it as it is. Returns the labels
   * the volume carries, so the caller can check who owns an existing one before mounting it.
   */
  ensureVolume(name: string, labels: Record<string, string>): Promise<{ created: boolean; labels: Record<string, string> }>;
  /**
   * Removes a named volume only when it carries every label in `owner` (e.g. this install and this application):
   * `not-owned` leaves anyone else's volume (or an unlabelled one) untouched, `missing` when it does not exist.
   * Throws while a container still uses it.
   */
  removeVolume(name: string, owner: Record<string, string>): Promise<'removed' | 'missing' | 'not-owned'>;
  /** Named volumes on this engine carrying all the given labels (value `''` means "has the label"). */
  listVolumes(labelFilter: Record<string, string>): Promise<Array<{ name: string; labels: Record<string, string> }>>;
  pullImage(ref: string, auth: RegistryAuth | undefined, onProgress: (p: PullProgress) => void, signal?: AbortSignal): Promise<void>;
  /** The image's RepoDigest (`repo@sha256:…`) when it has one, else its local id (`sha256:…`). */
  imageDigest(ref: string): Promise<string>;
  createService(spec: ServiceSpecInput): Promise<ServiceChangeResult>;
  /** `force` replaces every task even when the spec is unchanged (redeploy, restart). */
  updateService(id: string, spec: ServiceSpecInput, options?: { force?: boolean }): Promise<ServiceChangeResult>;
  /**
   * Idempotent create-or-update of a service Wharf runs for itself (e.g. the edge proxy): creates it when missing,
   * updates it only when `spec` differs from what it runs (compared through a `wharf.spec-hash` label the adapter adds),
   * and refuses (SwarmEngineError, status 409) a same-named service that does not carry every `owner` label.
   */
  ensureService(spec: ServiceSpecInput, owner: Record<string, string>): Promise<EnsureServiceResult>;
  inspectService(id: string): Promise<ServiceInfo | null>;
  /** Services carrying all the given labels (value `''` in the filter means "has the label"). */
  listServices(labelFilter: Record<string, string>): Promise<ServiceInfo[]>;
  serviceTasks(id: string): Promise<TaskInfo[]>;
  waitForConvergence(id: string, options: WaitForConvergenceOptions): Promise<ConvergenceResult>;
  /** Swarm rollback to the previous spec. */
  rollbackService(id: string): Promise<void>;
  scaleService(id: string, replicas: number): Promise<void>;
  /** Idempotent: a missing service is not an error. */
  removeService(id: string): Promise<void>;
  serviceLogs(id: string, options: ServiceLogsOptions): AsyncIterable<LogLine>;
}
