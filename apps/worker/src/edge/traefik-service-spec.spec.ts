import { toDockerServiceSpec, validateSpecForHost } from '@wharf/orchestration';
import { traefikServiceSpec, TraefikSpecError, TRAEFIK_DYNAMIC_DIR } from './traefik-service-spec';

const input = {
  installId: '0f5e2a4c-1111-4222-8333-444455556666',
  serviceName: 'wharf-0f5e2a4c-edge-proxy',
  image: 'traefik:v3.4.1',
  httpPort: 80,
  httpsPort: 443,
  dynamicDir: '/var/lib/wharf/traefik/dynamic',
  networks: ['wharf-0f5e2a4c-edge-bbbbbbbbbbbb', 'wharf-0f5e2a4c-edge-aaaaaaaaaaaa', 'wharf-0f5e2a4c-edge-bbbbbbbbbbbb'],
};

describe('traefikServiceSpec', () => {
  it("runs Traefik v3 on the file provider, host-mode 80/443, read-only dynamic directory, manager only, on the edge networks", () => {
    const spec = traefikServiceSpec(input);
    expect(spec.name).toBe('wharf-0f5e2a4c-edge-proxy');
    expect(spec.image).toBe('traefik:v3.4.1');
    expect(spec.labels).toEqual({ 'wharf.install': input.installId, 'wharf.role': 'edge-proxy' });
    expect(spec.args).toEqual(expect.arrayContaining([
      '--entrypoints.web.address=:80',
      '--entrypoints.websecure.address=:443',
      `--providers.file.directory=${TRAEFIK_DYNAMIC_DIR}`,
      '--providers.file.watch=true',
      '--api.dashboard=false',
      '--ping=true',
      '--accesslog=true',
    ]));
    // No API, no insecure dashboard, no other provider (Docker's socket is never given to Traefik).
    expect(spec.args!.some((a) => /^--api(=|\.insecure)|^--providers\.(docker|swarm)/.test(a))).toBe(false);
    expect(spec.command).toBeUndefined();
    expect(spec.ports).toEqual([
      { target: 80, published: 80, protocol: 'tcp', mode: 'host' },
      { target: 443, published: 443, protocol: 'tcp', mode: 'host' },
    ]);
    expect(spec.mounts).toEqual([{ type: 'bind', source: '/var/lib/wharf/traefik/dynamic', target: TRAEFIK_DYNAMIC_DIR, readOnly: true }]);
    expect(spec.constraints).toEqual(['node.role==manager']);
    expect(spec.replicas).toBe(1);
    // Sorted and without duplicates: the same edge gives the same spec.
    expect(spec.networks).toEqual(['wharf-0f5e2a4c-edge-aaaaaaaaaaaa', 'wharf-0f5e2a4c-edge-bbbbbbbbbbbb']);
    expect(spec.updateConfig!.order).toBe('stop-first');
    expect(spec.env).toEqual({});
  });

  it('publishes the configured host ports (the container still listens on 80/443) and is deterministic', () => {
    const spec = traefikServiceSpec({ ...input, httpPort: 18080, httpsPort: 18443 });
    expect(spec.ports.map((p) => [p.target, p.published, p.mode])).toEqual([[80, 18080, 'host'], [443, 18443, 'host']]);
    expect(JSON.stringify(traefikServiceSpec({ ...input, networks: [...input.networks].reverse() }))).toBe(JSON.stringify(traefikServiceSpec(input)));
  });

  it('fits a single-node host without IPVS unchanged (host-mode ports, dnsrr, stop-first)', () => {
    const checked = validateSpecForHost(traefikServiceSpec(input), { ipvs: false, swarmActive: true, nodeCount: 1, engineVersion: '20.10' });
    expect(checked.ok).toBe(true);
    expect(checked.issues).toEqual([]);
    const docker = toDockerServiceSpec(checked.spec);
    expect(docker.TaskTemplate.ContainerSpec.Mounts).toEqual([{ Type: 'bind', Source: input.dynamicDir, Target: TRAEFIK_DYNAMIC_DIR, ReadOnly: true }]);
    expect(docker.EndpointSpec.Ports).toEqual([
      { Protocol: 'tcp', TargetPort: 80, PublishedPort: 80, PublishMode: 'host' },
      { Protocol: 'tcp', TargetPort: 443, PublishedPort: 443, PublishMode: 'host' },
    ]);
  });

  it.each([
    [{ image: 'traefik:v3 --api.insecure' }, /image/],
    [{ httpPort: 0 }, /httpPort/],
    [{ httpsPort: 80 }, /must differ/],
    [{ dynamicDir: 'relative' }, /dynamicDir/],
    [{ networks: ['bad name'] }, /network/],
    [{ serviceName: '-x' }, /serviceName/],
  ])('refuses %j', (patch, message) => {
    expect(() => traefikServiceSpec({ ...input, ...patch })).toThrow(TraefikSpecError);
    expect(() => traefikServiceSpec({ ...input, ...patch })).toThrow(message);
  });
});
