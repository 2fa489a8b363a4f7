import type { ApplicationSpec } from '@wharf/contracts';

/**
 * Named volumes are Wharf-owned engine objects. The name a user types in a mount ("data") is a name inside the
 * application's environment; the engine name is derived from (install, environment, name), so two environments (and
 * two organizations) can never reach the same engine volume by typing the same name, and a redeploy finds the volume
 * again. Docker's volume name rule is `[a-zA-Z0-9][a-zA-Z0-9_.-]*`; the result stays far below the 255-character limit
 * of a directory name (6 + 8 + 1 + 32 + 1 + at most 128).
 */
export function volumeEngineName(install: string, environmentId: string, name: string): string {
  const inst = install.replace(/[^A-Za-z0-9]/g, '').slice(0, 8);
  const env = environmentId.replace(/[^A-Za-z0-9]/g, '').toLowerCase();
  return `wharf-${inst}-${env}-${name}`;
}

/** One named volume an application mounts: the user's name, the engine's name, and whether it predates derived names. */
export interface EngineVolume {
  name: string;
  engineName: string;
  /**
   * A volume an application already mounted before volumes were Wharf-owned: it keeps its verbatim engine name (so its
   * data stays) and, having no labels, is never removed by Wharf (see README, "Named volumes").
   */
  legacy: boolean;
}

/** The distinct named volumes of a spec with their engine names; `legacyVolumes` are the app's pre-existing names. */
export function engineVolumesOf(install: string, app: { environmentId: string; spec: Pick<ApplicationSpec, 'mounts'>; legacyVolumes?: string[] | null }): EngineVolume[] {
  const legacy = new Set(app.legacyVolumes ?? []);
  const names = [...new Set(app.spec.mounts.filter((m) => m.type === 'volume').map((m) => m.source))];
  return names.map((name) => (legacy.has(name) ? { name, engineName: name, legacy: true } : { name, engineName: volumeEngineName(install, app.environmentId, name), legacy: false }));
}

/**
 * The labels an engine volume of an application carries (the same keys as its Swarm service: `wharf.service` is the
 * application id), plus `wharf.volume`, the name the user typed.
 */
export function volumeLabels(serviceLabels: Record<string, string>, name: string): Record<string, string> {
  const keys = ['wharf.install', 'wharf.organization', 'wharf.project', 'wharf.environment', 'wharf.service'];
  return { ...Object.fromEntries(keys.filter((k) => serviceLabels[k] !== undefined).map((k) => [k, serviceLabels[k]])), 'wharf.volume': name };
}
