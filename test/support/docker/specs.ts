import type { ServiceSpecInput } from '@wharf/orchestration';
import { BUSYBOX_IMAGE } from './busybox-image';

/**
 * A busybox httpd serving `$BODY` on port 8080. The command array runs the container's own shell (test image only;
 * product code never builds shell strings).
 */
export function httpdSpec(overrides: Partial<ServiceSpecInput> & Pick<ServiceSpecInput, 'name' | 'labels'>): ServiceSpecInput {
  return {
    image: BUSYBOX_IMAGE,
    command: ['/bin/sh', '-c', 'mkdir -p /www && printf "%s" "$BODY" > /www/index.html && exec httpd -f -p 8080 -h /www'],
    env: { BODY: 'hello from wharf' },
    replicas: 1,
    ports: [{ target: 8080, protocol: 'tcp', mode: 'host' }],
    healthcheck: { test: ['CMD', 'wget', '-q', '-O', '/dev/null', 'http://127.0.0.1:8080/'], intervalMs: 300, timeoutMs: 2_000, retries: 3, startPeriodMs: 0 },
    restartPolicy: { condition: 'any', delayMs: 500 },
    updateConfig: { parallelism: 1, order: 'stop-first', failureAction: 'pause', monitorMs: 1_000 },
    rollbackConfig: { parallelism: 1, order: 'stop-first', failureAction: 'pause', monitorMs: 1_000 },
    constraints: [],
    mounts: [],
    networks: [],
    stopGracePeriodMs: 1_000,
    endpointMode: 'dnsrr',
    ...overrides,
  };
}

/** A long-running container that does nothing (for specs inspected rather than served). */
export function sleeperSpec(overrides: Partial<ServiceSpecInput> & Pick<ServiceSpecInput, 'name' | 'labels'>): ServiceSpecInput {
  return {
    image: BUSYBOX_IMAGE,
    command: ['/bin/sleep', '3600'],
    env: {},
    replicas: 1,
    ports: [],
    restartPolicy: { condition: 'none' },
    constraints: [],
    mounts: [],
    networks: [],
    stopGracePeriodMs: 500,
    endpointMode: 'dnsrr',
    ...overrides,
  };
}
