import { inject, Injectable, signal } from '@angular/core';
import { createMongoAbility, ForcedSubject, MongoAbility, subject as caslSubject } from '@casl/ability';
import { PackRule, unpackRules } from '@casl/ability/extra';
import type { Action, Subject } from '@wharf/contracts';
import { firstValueFrom } from 'rxjs';
import { ApiClient } from '../api/api-client.gen';

export type PortalAbility = MongoAbility<[Action, Subject | ForcedSubject<Subject>]>;

/**
 * What the signed-in user may do, from GET /me/abilities (packed CASL rules, the same rules the API enforces).
 * The portal only hides controls with it; the API still checks everything. `can()` reads a signal, so templates
 * and computed values update when the rules change.
 */
@Injectable({ providedIn: 'root' })
export class AbilitiesService {
  private readonly api = inject(ApiClient);
  private readonly ability: PortalAbility = createMongoAbility<PortalAbility>([]);
  private readonly revision = signal(0);
  readonly loaded = signal(false);

  async load(): Promise<void> {
    const res = await firstValueFrom(this.api.meAbilities());
    this.setPackedRules(res.rules as PackRule<never>[]);
  }

  setPackedRules(packed: PackRule<never>[]): void {
    this.ability.update(unpackRules(packed));
    this.loaded.set(true);
    this.revision.update((n) => n + 1);
  }

  clear(): void {
    this.ability.update([]);
    this.loaded.set(false);
    this.revision.update((n) => n + 1);
  }

  /** May the user do `action` on `subject` inside organization `organizationId`? */
  can(action: Action, subject: Subject, organizationId: string | null | undefined, fields: Record<string, unknown> = {}): boolean {
    this.revision();
    if (!organizationId) return false;
    const scope = subject === 'organization' ? { id: organizationId } : { organizationId };
    return this.ability.can(action, caslSubject(subject, { ...fields, ...scope }));
  }
}
