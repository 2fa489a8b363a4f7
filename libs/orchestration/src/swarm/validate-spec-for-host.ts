import { effectiveOrder } from '@wharf/contracts';
import type { HostCapabilities, HostValidationResult, ServiceSpecInput, SpecIssue } from '../ports/swarm.port';

const SERVICE_NAME = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;
const ENV_KEY = /^[^=\0]+$/;

/**
 * Checks a spec against what a host can run and adjusts what can be adjusted. Pure: the input is not modified.
 *
 * - Without IPVS, `vip` endpoints and `ingress` ports do not route: switch to `dnsrr` and `host` mode.
 * - `dnsrr` cannot publish ingress ports (Docker refuses it): with IPVS this is an error.
 * - A fixed host-mode port is bound once per node: more replicas than nodes cannot all run (error), and a
 *   start-first update/rollback on a single node never converges (the new task waits for the port): switch to
 *   stop-first. Engine-assigned host ports (no `published`) have neither problem.
 */
export function validateSpecForHost(input: ServiceSpecInput, caps: HostCapabilities): HostValidationResult {
  const spec: ServiceSpecInput = structuredClone(input);
  const issues: SpecIssue[] = [];
  const error = (code: string, message: string) => issues.push({ level: 'error', code, message });
  const adjusted = (code: string, message: string) => issues.push({ level: 'adjusted', code, message });

  if (!caps.swarmActive) error('swarm-inactive', 'The Docker engine is not in swarm mode.');
  if (!SERVICE_NAME.test(spec.name)) {
    error('invalid-name', `Service name "${spec.name}" must be 1–63 letters, digits or hyphens, not starting or ending with a hyphen.`);
  }
  if (!spec.image || /\s/.test(spec.image)) error('invalid-image', `Image reference "${spec.image}" is empty or contains whitespace.`);
  if (!Number.isInteger(spec.replicas) || spec.replicas < 0) error('invalid-replicas', `Replicas must be a non-negative integer (got ${spec.replicas}).`);
  for (const key of Object.keys(spec.env)) {
    if (!ENV_KEY.test(key)) error('invalid-env-name', `Environment variable name ${JSON.stringify(key)} is empty or contains "=" or NUL.`);
  }
  for (const [key, value] of [...Object.entries(spec.env), ...Object.entries(spec.labels)]) {
    if (value.includes('\0') || key.includes('\0')) error('nul-character', `${JSON.stringify(key)} contains a NUL character, which Docker cannot store.`);
  }
  for (const p of spec.ports) {
    if (!isPort(p.target)) error('invalid-port', `Target port ${p.target} is not between 1 and 65535.`);
    if (p.published !== undefined && p.published !== 0 && !isPort(p.published)) error('invalid-port', `Published port ${p.published} is not between 1 and 65535.`);
  }
  if (spec.healthcheck && spec.healthcheck.test.length === 0) error('invalid-healthcheck', 'The health check has an empty test command.');

  if (!caps.ipvs) {
    if (spec.endpointMode === 'vip') {
      spec.endpointMode = 'dnsrr';
      adjusted('no-ipvs-dnsrr', 'This host has no IPVS, so VIP service discovery does not route: using DNS round-robin (dnsrr) instead.');
    }
    for (const p of spec.ports) {
      if (p.mode === 'ingress') {
        p.mode = 'host';
        adjusted('no-ipvs-host-port', `This host has no IPVS, so the ingress routing mesh does not work: port ${p.published ?? p.target}/${p.protocol} is published in host mode on the node running the task.`);
      }
    }
  } else if (spec.endpointMode === 'dnsrr' && spec.ports.some((p) => p.mode === 'ingress')) {
    error('dnsrr-ingress', 'A dnsrr endpoint cannot publish ingress-mode ports; use host mode or the vip endpoint.');
  }

  const fixedHostPorts = spec.ports.filter((p) => p.mode === 'host' && p.published);
  if (fixedHostPorts.length > 0) {
    const list = fixedHostPorts.map((p) => `${p.published}/${p.protocol}`).join(', ');
    const nodes = Math.max(caps.nodeCount, 1);
    if (spec.replicas > nodes) {
      error('host-port-replicas', `Host-mode port ${list} can be bound once per node: ${spec.replicas} replicas need ${spec.replicas} nodes but the swarm has ${nodes}. Leave the published port out (engine-assigned), reach the replicas through the environment network or the proxy, or lower the replicas.`);
    }
    for (const [key, label] of [['updateConfig', 'update'], ['rollbackConfig', 'rollback']] as const) {
      const cfg = spec[key];
      if (!cfg) continue;
      const order = effectiveOrder(cfg.order, spec.ports, nodes, label);
      if (order.reason) {
        cfg.order = order.effective;
        adjusted(`host-port-${label}-stop-first`, order.reason);
      }
    }
  }
  if (spec.rollbackConfig?.failureAction === 'rollback') {
    spec.rollbackConfig.failureAction = 'pause';
    adjusted('rollback-failure-action', 'A rollback cannot itself roll back on failure: its failure action is pause.');
  }
  return { spec, issues, ok: !issues.some((i) => i.level === 'error') };
}

function isPort(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}
