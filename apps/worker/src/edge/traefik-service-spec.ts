import { isAbsolute } from 'node:path';
import type { ServiceSpecInput } from '@wharf/orchestration';
import { ENTRYPOINT_WEB, ENTRYPOINT_WEBSECURE } from '@wharf/routing';

/** Where the Traefik container sees WHARF_TRAEFIK_DIR (read-only): its file provider watches it. */
export const TRAEFIK_DYNAMIC_DIR = '/etc/traefik/dynamic';
export const EDGE_PROXY_ROLE = 'edge-proxy';
export const EDGE_NETWORK_ROLE = 'edge';

export interface TraefikServiceInput {
  /** This installation's id (`wharf.install`). */
  installId: string;
  /** The Swarm service name, derived from the install (edgeProxyServiceNameFor). */
  serviceName: string;
  /** WHARF_TRAEFIK_IMAGE. */
  image: string;
  /** Host ports published in host mode for the `web` (:80) and `websecure` (:443) entry points. */
  httpPort: number;
  httpsPort: number;
  /** WHARF_TRAEFIK_DIR on the manager node: bind-mounted read-only at TRAEFIK_DYNAMIC_DIR. */
  dynamicDir: string;
  /** The edge networks of this install (one per organization with routed applications). */
  networks: string[];
}

export class TraefikSpecError extends Error {}

const NAME = /^[a-zA-Z0-9](?:[a-zA-Z0-9_.-]{0,254})$/;

/**
 * The Swarm service of this install's Traefik (v3, file provider only). Pure: the same input gives the same spec
 * (networks sorted, no duplicates), so an unchanged edge leaves the running service untouched.
 *
 * - entry points `web` :80 and `websecure` :443, published in host mode on the configured host ports (no routing
 *   mesh: it needs IPVS, and host mode keeps the client's address);
 * - the file provider on the read-only mounted dynamic directory, watched; the dashboard and API off (no `--api`),
 *   access log and ping on (the health check asks ping), no version check or usage statistics;
 * - one replica on a manager (the node whose WHARF_TRAEFIK_DIR the worker writes), stop-first updates (a host-mode
 *   port is bound once per node), on every edge network and on nothing else.
 */
export function traefikServiceSpec(input: TraefikServiceInput): ServiceSpecInput {
  if (!input.installId || !NAME.test(input.installId)) throw new TraefikSpecError('installId is not a valid id');
  if (!/^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/.test(input.serviceName)) throw new TraefikSpecError('serviceName is not a valid Swarm service name');
  if (!input.image || /\s/.test(input.image)) throw new TraefikSpecError('image is empty or contains whitespace');
  for (const [k, v] of [['httpPort', input.httpPort], ['httpsPort', input.httpsPort]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 65535) throw new TraefikSpecError(`${k} must be from 1 to 65535`);
  }
  if (input.httpPort === input.httpsPort) throw new TraefikSpecError('httpPort and httpsPort must differ');
  if (!isAbsolute(input.dynamicDir) || input.dynamicDir.includes('\0')) throw new TraefikSpecError('dynamicDir must be an absolute path');
  for (const n of input.networks) if (!NAME.test(n)) throw new TraefikSpecError(`network "${n}" is not a valid network name`);
  const labels = { 'wharf.install': input.installId, 'wharf.role': EDGE_PROXY_ROLE };
  return {
    name: input.serviceName,
    image: input.image,
    args: [
      `--entrypoints.${ENTRYPOINT_WEB}.address=:80`,
      `--entrypoints.${ENTRYPOINT_WEBSECURE}.address=:443`,
      `--providers.file.directory=${TRAEFIK_DYNAMIC_DIR}`,
      '--providers.file.watch=true',
      '--api.dashboard=false',
      '--ping=true',
      '--accesslog=true',
      '--log.level=INFO',
      '--global.checknewversion=false',
      '--global.sendanonymoususage=false',
    ],
    env: {},
    labels,
    replicas: 1,
    ports: [
      { target: 80, published: input.httpPort, protocol: 'tcp', mode: 'host' },
      { target: 443, published: input.httpsPort, protocol: 'tcp', mode: 'host' },
    ],
    healthcheck: { test: ['CMD', 'traefik', 'healthcheck', '--ping'], intervalMs: 10_000, timeoutMs: 5_000, retries: 3, startPeriodMs: 10_000 },
    restartPolicy: { condition: 'any', delayMs: 5_000, maxAttempts: 0 },
    updateConfig: { parallelism: 1, order: 'stop-first', failureAction: 'pause', monitorMs: 5_000 },
    rollbackConfig: { parallelism: 1, order: 'stop-first', failureAction: 'pause', monitorMs: 5_000 },
    constraints: ['node.role==manager'],
    mounts: [{ type: 'bind', source: input.dynamicDir, target: TRAEFIK_DYNAMIC_DIR, readOnly: true }],
    networks: [...new Set(input.networks)].sort(),
    stopGracePeriodMs: 10_000,
    endpointMode: 'dnsrr',
  };
}
