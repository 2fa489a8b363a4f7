import { DeploymentSnapshot, volumeLabels } from '@wharf/applications';
import type { SwarmPort } from '@wharf/orchestration';

/**
 * Before the service step: every named volume of the snapshot exists on the engine with Wharf's labels (created here,
 * so it never appears unlabelled), and an existing one belongs to this install and this environment. A volume that
 * exists under the engine name without those labels is refused, never mounted; only an application's legacy volumes
 * (from before names were derived) may be unlabelled. Idempotent: a resumed deployment finds them in place.
 */
export async function ensureEngineVolumes(swarm: SwarmPort, s: DeploymentSnapshot, log: (message: string, level?: 'info' | 'warn') => Promise<void>): Promise<void> {
  const install = s.labels['wharf.install'];
  const environment = s.labels['wharf.environment'];
  for (const v of s.volumes ?? []) {
    const got = await swarm.ensureVolume(v.engineName, volumeLabels(s.labels, v.name));
    const ours = got.labels['wharf.install'] === install && got.labels['wharf.environment'] === environment;
    if (got.created) await log(`Created volume "${v.name}" (${v.engineName})`);
    else if (ours) await log(`Volume "${v.name}" exists (${v.engineName})`);
    else if (v.legacy && got.labels['wharf.install'] === undefined) await log(`Volume "${v.name}" is a volume from before Wharf owned volumes; it is mounted by its own name and never removed by Wharf`, 'warn');
    else throw new Error(`Volume "${v.name}" cannot be mounted: an engine volume named ${v.engineName} exists and does not belong to this environment`);
  }
}
