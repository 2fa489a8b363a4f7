import { DeploymentSnapshot, volumeLabels } from '@wharf/applications';
import type { RegistryAuth, ServiceSpecInput } from '@wharf/orchestration';

/**
 * Swarm expands Go templates (`{{.Service.Name}}`, …) in a container's environment values, so a value holding `{{`
 * would be rewritten, or rejected with "expanding env failed". `{{"{{"}}` is the template that prints `{{`: after
 * this escaping every value reaches the container verbatim.
 */
export function escapeSwarmTemplate(value: string): string {
  return value.includes('{{') ? value.split('{{').join('{{"{{"}}') : value;
}

/**
 * A named volume is mounted by its engine name (derived per environment, or verbatim for an application's volumes
 * from before names were derived) and carries Wharf's labels when the engine creates it on another node. Snapshots
 * taken before volumes were Wharf-owned have no `volumes` and mount their sources verbatim, as they did then.
 */
export function engineMounts(s: DeploymentSnapshot): ServiceSpecInput['mounts'] {
  const engine = new Map((s.volumes ?? []).map((v) => [v.name, v]));
  return s.spec.mounts.map((m) => {
    if (m.type !== 'volume' || !s.volumes) return { ...m };
    const v = engine.get(m.source);
    if (!v) throw new Error(`The snapshot has no engine volume for mount source "${m.source}"`);
    // A legacy volume exists unlabelled from before: it is mounted exactly as it was.
    return v.legacy ? { ...m, source: v.engineName } : { ...m, source: v.engineName, labels: volumeLabels(s.labels, m.source) };
  });
}

/**
 * Turns a deployment's frozen snapshot and its resolved environment into the Swarm port's spec. A routed application
 * (one with domains, at the time the deployment runs) also joins its organization's edge network, where Traefik
 * reaches it by its service name.
 */
export function snapshotToSpec(s: DeploymentSnapshot, env: Record<string, string>, registryAuth?: RegistryAuth, options: { edgeNetwork?: string } = {}): ServiceSpecInput {
  const r = s.spec.resources;
  return {
    name: s.serviceName,
    image: s.image,
    ...(s.spec.command ? { command: s.spec.command } : {}),
    ...(s.spec.args ? { args: s.spec.args } : {}),
    env: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, escapeSwarmTemplate(v)])),
    labels: s.labels,
    replicas: s.replicas,
    resources: {
      limits: { ...(r.cpuLimit ? { nanoCpus: Math.round(r.cpuLimit * 1e9) } : {}), ...(r.memoryLimitMb ? { memoryBytes: Math.round(r.memoryLimitMb * 1024 * 1024) } : {}) },
      reservations: { ...(r.cpuReservation ? { nanoCpus: Math.round(r.cpuReservation * 1e9) } : {}), ...(r.memoryReservationMb ? { memoryBytes: Math.round(r.memoryReservationMb * 1024 * 1024) } : {}) },
    },
    ports: s.spec.ports.map((p) => ({ target: p.target, ...(p.published ? { published: p.published } : {}), protocol: p.protocol, mode: p.mode })),
    ...(s.spec.healthcheck ? { healthcheck: s.spec.healthcheck } : {}),
    restartPolicy: { condition: s.spec.restartPolicy.condition, delayMs: s.spec.restartPolicy.delayMs, maxAttempts: s.spec.restartPolicy.maxAttempts },
    updateConfig: { ...s.spec.update },
    rollbackConfig: { ...s.spec.rollback, failureAction: s.spec.rollback.failureAction === 'rollback' ? 'pause' : s.spec.rollback.failureAction },
    constraints: s.spec.constraints,
    mounts: engineMounts(s),
    networks: options.edgeNetwork && options.edgeNetwork !== s.networkName ? [s.networkName, options.edgeNetwork] : [s.networkName],
    stopGracePeriodMs: s.spec.stopGracePeriodMs,
    endpointMode: 'vip',
    ...(registryAuth ? { registryAuth } : {}),
  };
}
