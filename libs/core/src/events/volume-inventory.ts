import type { EntityManager } from 'typeorm';

/** The parent whose deletion is being recorded. */
export type VolumeScope = 'environment' | 'project' | 'organization';

/**
 * The named volumes the applications of an environment, project or organization mount, read inside the deleting
 * transaction (before the SQL cascade removes the rows), so its audit entry can say which engine volumes are removed
 * and which are kept. `owned`: Wharf's derived, labelled engine names (removed by the teardown only when asked);
 * `legacy`: pre-existing verbatim names recorded by the migration (unlabelled, never removed by Wharf).
 *
 * The port lives here because the deleting libs (tenancy, projects) sit below the applications lib, which implements it.
 */
export interface VolumeInventory {
  volumesOf(m: EntityManager, scope: VolumeScope, id: string): Promise<{ owned: string[]; legacy: string[] }>;
}
export const VOLUME_INVENTORY = Symbol('VolumeInventory');

/** What the deletion's audit entry records about named volumes (never their contents). */
export async function volumeAuditChanges(
  inventory: VolumeInventory | undefined,
  m: EntityManager,
  scope: VolumeScope,
  id: string,
  removeVolumes: boolean,
): Promise<{ removeVolumes: boolean; volumesToRemove: string[]; volumesKept: string[] }> {
  const { owned, legacy } = inventory ? await inventory.volumesOf(m, scope, id) : { owned: [], legacy: [] };
  return removeVolumes ? { removeVolumes, volumesToRemove: owned, volumesKept: legacy } : { removeVolumes, volumesToRemove: [], volumesKept: [...owned, ...legacy] };
}
