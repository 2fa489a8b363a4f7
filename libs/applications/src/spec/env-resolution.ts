import type { DeploymentSnapshot, EnvValue } from '../entities/deployment.entity';

/** `${{NAME}}` (application variable), `${{project.NAME}}`, `${{environment.NAME}}`. */
export const REFERENCE_RE = /\$\{\{\s*(?:(project|environment)\.)?([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

export class UnknownReferenceError extends Error {
  constructor(readonly reference: string) {
    super(`Unknown variable reference ${reference}`);
  }
}

export function referencesIn(text: string): Array<{ scope: 'project' | 'environment' | 'application'; name: string; raw: string }> {
  return [...text.matchAll(REFERENCE_RE)].map((m) => ({ scope: (m[1] as 'project' | 'environment' | undefined) ?? 'application', name: m[2], raw: m[0] }));
}

/** Unknown references among plain values (secret values are checked when the worker decrypts them). */
export function unknownReferences(s: Pick<DeploymentSnapshot, 'env' | 'refs'>): string[] {
  const out = new Set<string>();
  const check = (v: EnvValue) => {
    if (!('plain' in v)) return;
    for (const r of referencesIn(v.plain)) {
      const pool = r.scope === 'application' ? s.env : s.refs[r.scope];
      if (!(r.name in pool)) out.add(r.raw);
    }
  };
  Object.values(s.env).forEach(check);
  return [...out];
}

/**
 * Resolves the container environment inside the worker: decrypts secret boxes and substitutes references, one level
 * deep (a referenced value is used as it is, so references cannot loop). Throws UnknownReferenceError naming it.
 */
export function resolveEnvironment(s: Pick<DeploymentSnapshot, 'env' | 'refs'>, decrypt: (box: string, aad: string) => string): Record<string, string> {
  const raw = (v: EnvValue): string => ('plain' in v ? v.plain : decrypt(v.enc, v.aad));
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(s.env)) {
    out[key] = raw(v).replace(REFERENCE_RE, (whole, scope: string | undefined, name: string) => {
      const pool = scope === 'project' ? s.refs.project : scope === 'environment' ? s.refs.environment : s.env;
      const target = pool[name];
      if (!target) throw new UnknownReferenceError(whole);
      return raw(target);
    });
  }
  return out;
}
