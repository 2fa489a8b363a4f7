import type { EntityManager } from 'typeorm';
import type { ApplicationSpec, DeploymentKind } from '@wharf/contracts';
import { variableAad, VariableEntity } from '@wharf/projects';
import { ApplicationEntity, ApplicationVariableEntity, appVariableAad } from '../entities/application.entity';
import type { DeploymentSnapshot, EnvValue } from '../entities/deployment.entity';
import { resolveEnvironment } from './env-resolution';

/**
 * What the running deployment (the last succeeded one) runs against what the saved configuration would deploy now.
 * `changed` names spec fields (`spec.image`) and variable keys (`variables.FOO`), never values.
 */
export interface ConfigurationDrift {
  differs: boolean;
  changed: string[];
  deploymentId: string;
  deploymentKind: DeploymentKind;
}

type EnvPart = Pick<DeploymentSnapshot, 'env' | 'refs'>;

/** The variables a deployment requested now would freeze: the application's, and the project's and environment's it may reference. */
export async function savedVariablesOf(m: EntityManager, app: Pick<ApplicationEntity, 'id' | 'projectId' | 'environmentId'>): Promise<EnvPart> {
  const boxOf = (row: { id: string; key: string; secret: boolean; value: string | null; valueEncrypted: string | null }, aad: (id: string, key: string) => string): EnvValue =>
    row.secret ? { enc: row.valueEncrypted!, aad: aad(row.id, row.key) } : { plain: row.value! };
  const appVars = await m.findBy(ApplicationVariableEntity, { applicationId: app.id });
  const projectVars = await m.createQueryBuilder(VariableEntity, 'v').where('v.project_id = :p AND v.environment_id IS NULL', { p: app.projectId }).getMany();
  const envVars = await m.createQueryBuilder(VariableEntity, 'v').where('v.environment_id = :e', { e: app.environmentId }).getMany();
  return {
    env: Object.fromEntries(appVars.map((v) => [v.key, boxOf(v, appVariableAad)])),
    refs: {
      project: Object.fromEntries(projectVars.map((v) => [v.key, boxOf(v, variableAad)])),
      environment: Object.fromEntries(envVars.map((v) => [v.key, boxOf(v, variableAad)])),
    },
  };
}

function canonical(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(canonical).join(',')}]`;
  if (x && typeof x === 'object') {
    return `{${Object.keys(x).sort().filter((k) => (x as Record<string, unknown>)[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonical((x as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(x ?? null);
}

/** The container environment as the worker would resolve it; a value that cannot be resolved stays as its box. */
function resolved(s: EnvPart, decrypt: (box: string, aad: string) => string): Record<string, string> {
  try {
    return resolveEnvironment(s, decrypt);
  } catch {
    // An unknown reference or an undecryptable secret: compare what is stored instead (still never returned).
    return Object.fromEntries(Object.entries(s.env).map(([k, v]) => [k, canonical(v)]));
  }
}

/**
 * Pure: the names of what differs between the running deployment's snapshot and the saved application (its spec and
 * its resolved variables, secrets decrypted only for the comparison). Replicas count only while the application runs
 * (a stop runs 0 on purpose).
 */
export function configurationChanges(
  running: Pick<DeploymentSnapshot, 'spec' | 'env' | 'refs' | 'replicas'>,
  saved: { spec: ApplicationSpec; desiredState: 'running' | 'stopped' } & EnvPart,
  decrypt: (box: string, aad: string) => string,
): string[] {
  const changed: string[] = [];
  const keys = new Set([...Object.keys(running.spec), ...Object.keys(saved.spec)]);
  for (const k of [...keys].sort()) {
    if (k === 'replicas') continue;
    if (canonical((running.spec as unknown as Record<string, unknown>)[k]) !== canonical((saved.spec as unknown as Record<string, unknown>)[k])) changed.push(`spec.${k}`);
  }
  if (saved.desiredState === 'running' && running.replicas !== saved.spec.replicas) changed.push('spec.replicas');
  const a = resolved(running, decrypt);
  const b = resolved(saved, decrypt);
  for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    if (a[k] !== b[k]) changed.push(`variables.${k}`);
  }
  return changed;
}
