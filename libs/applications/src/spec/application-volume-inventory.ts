import { Global, Injectable, Module } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { VOLUME_INVENTORY, VolumeInventory, VolumeScope } from '@wharf/core';
import type { ApplicationSpec } from '@wharf/contracts';
import { engineVolumesOf } from './volume-names';

const SCOPE_COLUMN: Record<VolumeScope, string> = { environment: 'environment_id', project: 'project_id', organization: 'organization_id' };

/** The engine names of the named volumes the applications of a parent mount (see `VolumeInventory`). */
@Injectable()
export class ApplicationVolumeInventory implements VolumeInventory {
  async volumesOf(m: EntityManager, scope: VolumeScope, id: string): Promise<{ owned: string[]; legacy: string[] }> {
    const [instance]: Array<{ install_id: string }> = await m.query(`SELECT install_id FROM instance WHERE id = 1`);
    const apps: Array<{ environment_id: string; spec: ApplicationSpec; legacy_volumes: string[] | null }> = await m.query(
      `SELECT environment_id, spec, legacy_volumes FROM applications WHERE ${SCOPE_COLUMN[scope]} = $1 ORDER BY id`,
      [id],
    );
    const owned = new Set<string>();
    const legacy = new Set<string>();
    for (const a of apps) {
      for (const v of engineVolumesOf(instance?.install_id ?? '', { environmentId: a.environment_id, spec: { mounts: a.spec?.mounts ?? [] }, legacyVolumes: a.legacy_volumes })) {
        (v.legacy ? legacy : owned).add(v.engineName);
      }
    }
    return { owned: [...owned].sort(), legacy: [...legacy].sort() };
  }
}

/** Global, so the lower libs' deletion handlers (tenancy, projects) receive the port without importing this lib. */
@Global()
@Module({ providers: [{ provide: VOLUME_INVENTORY, useClass: ApplicationVolumeInventory }], exports: [VOLUME_INVENTORY] })
export class VolumeInventoryModule {}
