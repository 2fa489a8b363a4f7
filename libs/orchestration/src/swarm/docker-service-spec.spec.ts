import { msToNs, toDockerServiceSpec } from './docker-service-spec';
import { baseSpec } from './test-spec.fixture';

describe('toDockerServiceSpec', () => {
  it('maps every field of a full spec to the Engine API ServiceSpec', () => {
    const spec = toDockerServiceSpec(
      baseSpec({
        command: ['/app/server'],
        args: ['--port', '8080'],
        env: { NODE_ENV: 'production' },
        labels: { 'wharf.install': 'i1', 'wharf.service': 's1' },
        replicas: 2,
        resources: { limits: { nanoCpus: 500_000_000, memoryBytes: 268_435_456 }, reservations: { nanoCpus: 100_000_000 } },
        ports: [
          { target: 8080, published: 80, protocol: 'tcp', mode: 'host' },
          { target: 53, protocol: 'udp', mode: 'host' },
        ],
        healthcheck: { test: ['CMD-SHELL', 'curl -f http://localhost:8080/health'], intervalMs: 5000, timeoutMs: 2000, retries: 3, startPeriodMs: 10_000 },
        restartPolicy: { condition: 'on-failure', delayMs: 5000, maxAttempts: 3, windowMs: 60_000 },
        updateConfig: { parallelism: 1, order: 'start-first', failureAction: 'rollback', monitorMs: 15_000, maxFailureRatio: 0.5, delayMs: 1000 },
        rollbackConfig: { parallelism: 2, order: 'stop-first', failureAction: 'pause', monitorMs: 5000 },
        constraints: ['node.role==manager'],
        mounts: [
          { type: 'volume', source: 'data', target: '/data', readOnly: false },
          { type: 'bind', source: '/etc/ssl', target: '/ssl', readOnly: true },
        ],
        networks: ['env-prod', 'edge-acme'],
        stopGracePeriodMs: 10_000,
        endpointMode: 'dnsrr',
        registryAuth: { username: 'u', password: 'secret', serveraddress: 'registry.example.com' },
      }),
    );
    expect(spec).toEqual({
      Name: 'production-web-a1b2c3',
      Labels: { 'wharf.install': 'i1', 'wharf.service': 's1' },
      TaskTemplate: {
        ContainerSpec: {
          Image: 'registry.example.com/acme/web:1.2.3',
          Command: ['/app/server'],
          Args: ['--port', '8080'],
          Env: ['NODE_ENV=production'],
          Labels: { 'wharf.install': 'i1', 'wharf.service': 's1' },
          Mounts: [
            { Type: 'volume', Source: 'data', Target: '/data', ReadOnly: false },
            { Type: 'bind', Source: '/etc/ssl', Target: '/ssl', ReadOnly: true },
          ],
          StopGracePeriod: 10_000_000_000,
          Healthcheck: { Test: ['CMD-SHELL', 'curl -f http://localhost:8080/health'], Interval: 5_000_000_000, Timeout: 2_000_000_000, Retries: 3, StartPeriod: 10_000_000_000 },
        },
        Resources: { Limits: { NanoCPUs: 500_000_000, MemoryBytes: 268_435_456 }, Reservations: { NanoCPUs: 100_000_000 } },
        RestartPolicy: { Condition: 'on-failure', Delay: 5_000_000_000, MaxAttempts: 3, Window: 60_000_000_000 },
        Placement: { Constraints: ['node.role==manager'] },
        Networks: [{ Target: 'env-prod' }, { Target: 'edge-acme' }],
      },
      Mode: { Replicated: { Replicas: 2 } },
      UpdateConfig: { Parallelism: 1, Delay: 1_000_000_000, FailureAction: 'rollback', Monitor: 15_000_000_000, MaxFailureRatio: 0.5, Order: 'start-first' },
      RollbackConfig: { Parallelism: 2, FailureAction: 'pause', Monitor: 5_000_000_000, Order: 'stop-first' },
      EndpointSpec: {
        Mode: 'dnsrr',
        Ports: [
          { Protocol: 'tcp', TargetPort: 8080, PublishedPort: 80, PublishMode: 'host' },
          { Protocol: 'udp', TargetPort: 53, PublishMode: 'host' },
        ],
      },
    });
    // credentials travel in the X-Registry-Auth header, never in the spec
    expect(JSON.stringify(spec)).not.toContain('secret');
  });

  it('leaves optional parts out of a minimal spec', () => {
    const spec = toDockerServiceSpec(baseSpec());
    expect(spec).toEqual({
      Name: 'production-web-a1b2c3',
      Labels: { 'wharf.install': 'i1' },
      TaskTemplate: { ContainerSpec: { Image: 'registry.example.com/acme/web:1.2.3', Env: [], Labels: { 'wharf.install': 'i1' } } },
      Mode: { Replicated: { Replicas: 1 } },
      EndpointSpec: { Mode: 'vip' },
    });
  });

  it('copies hostile env and label values verbatim as KEY=value', () => {
    const hostile: Record<string, string> = {
      QUOTES: `he said "hi" and 'bye'`,
      SUBST: '$(rm -rf /) ${HOME} $HOME',
      BACKTICKS: '`id`; echo pwned',
      NEWLINES: 'line1\nline2\r\nline3\ttab',
      UNICODE: 'ünïcødé 🚢 日本語 \u202e',
      EQUALS: 'a=b=c',
      EMPTY: '',
      BACKSLASH: 'C:\\path\\ "x"',
    };
    const labels = { 'wharf.install': 'i1', 'wharf.note': '"$(x)" `y` \n 🚢' };
    const spec = toDockerServiceSpec(baseSpec({ env: hostile, labels }));
    expect(spec.TaskTemplate.ContainerSpec.Env).toEqual([
      `QUOTES=he said "hi" and 'bye'`,
      'SUBST=$(rm -rf /) ${HOME} $HOME',
      'BACKTICKS=`id`; echo pwned',
      'NEWLINES=line1\nline2\r\nline3\ttab',
      'UNICODE=ünïcødé 🚢 日本語 \u202e',
      'EQUALS=a=b=c',
      'EMPTY=',
      'BACKSLASH=C:\\path\\ "x"',
    ]);
    expect(spec.Labels).toEqual(labels);
    expect(spec.TaskTemplate.ContainerSpec.Labels).toEqual(labels);
    // JSON round trip (what goes over the wire) keeps every character
    expect(JSON.parse(JSON.stringify(spec)).TaskTemplate.ContainerSpec.Env).toEqual(spec.TaskTemplate.ContainerSpec.Env);
  });

  it('passes command and args as arrays, element by element, without a shell', () => {
    const command = ['/bin/echo', 'a b', '$(whoami)', '`id`', "it's", ''];
    const spec = toDockerServiceSpec(baseSpec({ command, args: ['--x', 'y z'] }));
    expect(spec.TaskTemplate.ContainerSpec.Command).toEqual(command);
    expect(spec.TaskTemplate.ContainerSpec.Args).toEqual(['--x', 'y z']);
    expect(spec.TaskTemplate.ContainerSpec.Command).not.toBe(command);
  });

  it('prepends CMD to a bare health check argv and keeps the Docker forms', () => {
    const hc = { intervalMs: 1000, timeoutMs: 500, retries: 2, startPeriodMs: 0 };
    expect(toDockerServiceSpec(baseSpec({ healthcheck: { ...hc, test: ['wget', '-q', 'http://127.0.0.1/'] } })).TaskTemplate.ContainerSpec.Healthcheck!.Test).toEqual(['CMD', 'wget', '-q', 'http://127.0.0.1/']);
    expect(toDockerServiceSpec(baseSpec({ healthcheck: { ...hc, test: ['NONE'] } })).TaskTemplate.ContainerSpec.Healthcheck!.Test).toEqual(['NONE']);
  });

  it('converts milliseconds to integer nanoseconds', () => {
    expect(msToNs(1)).toBe(1_000_000);
    expect(msToNs(0.5)).toBe(500_000);
    expect(Number.isInteger(msToNs(1234.5678))).toBe(true);
  });
});
