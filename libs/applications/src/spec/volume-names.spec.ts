import { engineVolumesOf, volumeEngineName, volumeLabels } from './volume-names';

const DOCKER_VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const INSTALL = '0b7e4c1a-9f7e-4d8e-a3a1-2c6f0e9d1b55';
const ENV_A = '01938f6e-7a11-7c2b-9d41-5e6f70819aab';
const ENV_B = '01938f6e-7a11-7c2b-9d41-5e6f70819aac';

describe('volume engine names', () => {
  it('derives a deterministic engine name from install, environment and the typed name', () => {
    expect(volumeEngineName(INSTALL, ENV_A, 'data')).toBe('wharf-0b7e4c1a-01938f6e7a117c2b9d415e6f70819aab-data');
    expect(volumeEngineName(INSTALL, ENV_A, 'data')).toBe(volumeEngineName(INSTALL, ENV_A, 'data'));
  });

  it('gives the same typed name different engine names in different environments and installs', () => {
    expect(volumeEngineName(INSTALL, ENV_A, 'data')).not.toBe(volumeEngineName(INSTALL, ENV_B, 'data'));
    expect(volumeEngineName(INSTALL, ENV_A, 'data')).not.toBe(volumeEngineName('ffffffff-9f7e-4d8e-a3a1-2c6f0e9d1b55', ENV_A, 'data'));
    expect(volumeEngineName(INSTALL, ENV_A, 'data')).not.toBe(volumeEngineName(INSTALL, ENV_A, 'data2'));
  });

  it("stays within Docker's volume name rules for the longest and oddest typed names", () => {
    for (const name of ['a', 'x'.repeat(128), 'A_b.c-d', '9lives']) {
      const n = volumeEngineName(INSTALL, ENV_A, name);
      expect(n).toMatch(DOCKER_VOLUME_NAME);
      expect(n.length).toBeLessThanOrEqual(200);
    }
    // An install id that is not a UUID (tests use such ids) still yields a valid name.
    expect(volumeEngineName('test-abc_1', ENV_A, 'data')).toMatch(DOCKER_VOLUME_NAME);
  });

  it('keeps the verbatim engine name only for volumes an application mounted before names were derived', () => {
    const spec = {
      mounts: [
        { type: 'volume' as const, source: 'old', target: '/a', readOnly: false },
        { type: 'volume' as const, source: 'new', target: '/b', readOnly: false },
        { type: 'volume' as const, source: 'new', target: '/c', readOnly: true },
        { type: 'bind' as const, source: '/srv/x', target: '/d', readOnly: false },
      ],
    };
    expect(engineVolumesOf(INSTALL, { environmentId: ENV_A, spec, legacyVolumes: ['old'] })).toEqual([
      { name: 'old', engineName: 'old', legacy: true },
      { name: 'new', engineName: volumeEngineName(INSTALL, ENV_A, 'new'), legacy: false },
    ]);
    expect(engineVolumesOf(INSTALL, { environmentId: ENV_A, spec }).every((v) => !v.legacy)).toBe(true);
  });

  it('labels a volume with the owning install, organization, environment and application only', () => {
    const labels = volumeLabels({ 'wharf.install': 'i', 'wharf.organization': 'o', 'wharf.project': 'p', 'wharf.environment': 'e', 'wharf.service': 's', 'wharf.deployment': 'd', team: 'x' }, 'data');
    expect(labels).toEqual({ 'wharf.install': 'i', 'wharf.organization': 'o', 'wharf.project': 'p', 'wharf.environment': 'e', 'wharf.service': 's', 'wharf.volume': 'data' });
  });
});
