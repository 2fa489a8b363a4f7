/**
 * Pure rules of preview deployments: the settings from untrusted input, whether a pull request's author is trusted to
 * deploy without an approval, the preview's host name and the child application's spec. No database, no Nest.
 */
import type { ApplicationSpec, FieldError } from '@wharf/contracts';
import { normalizeHost } from '@wharf/routing';

export const DEFAULT_MAX_PREVIEWS = 5;
export const MAX_PREVIEWS_LIMIT = 50;
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** A stored environment override: a plain value, or a secret one kept only as an encrypted box. */
export interface StoredPreviewEnv {
  key: string;
  value: string | null;
  box: string | null;
  secret: boolean;
}

export interface PreviewSettingsInput {
  enabled: boolean;
  /** `*.preview.example.com`: each preview answers on `pr-<n>-<app>.preview.example.com`; null: no domain. */
  domain: string | null;
  /** The container port the preview's domain routes to (null: the application's first port, else 80). */
  port: number | null;
  https: boolean;
  /** Overrides of the application's variables; a secret entry without a value keeps its stored value. */
  env: Array<{ key: string; value: string | null; secret: boolean }>;
  maxPreviews: number;
}

const FIELDS = ['enabled', 'domain', 'port', 'https', 'env', 'maxPreviews'];

/** Validates a whole settings body (PUT); every problem names its field. */
export function previewSettingsFrom(input: unknown, errors: FieldError[]): PreviewSettingsInput {
  const out: PreviewSettingsInput = { enabled: false, domain: null, port: null, https: true, env: [], maxPreviews: DEFAULT_MAX_PREVIEWS };
  const fail = (pointer: string, detail: string, code = 'invalid') => errors.push({ pointer, code, detail });
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    fail('', 'must be an object', 'type');
    return out;
  }
  const o = input as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!FIELDS.includes(k)) fail(`/${k.slice(0, 40).replace(/~/g, '~0').replace(/\//g, '~1')}`, 'is not a preview setting', 'unknown-field');
  if (o.enabled !== undefined) {
    if (typeof o.enabled !== 'boolean') fail('/enabled', 'must be true or false');
    else out.enabled = o.enabled;
  }
  if (o.https !== undefined) {
    if (typeof o.https !== 'boolean') fail('/https', 'must be true or false');
    else out.https = o.https;
  }
  if (o.domain !== undefined && o.domain !== null && o.domain !== '') {
    const h = normalizeHost(o.domain, { allowWildcard: true });
    if ('error' in h) fail('/domain', h.error);
    else if (!h.host.startsWith('*.')) fail('/domain', 'must be a wildcard domain such as *.preview.example.com');
    else out.domain = h.host;
  }
  if (o.port !== undefined && o.port !== null) {
    if (!Number.isInteger(o.port) || (o.port as number) < 1 || (o.port as number) > 65535) fail('/port', 'must be an integer from 1 to 65535');
    else out.port = o.port as number;
  }
  if (o.maxPreviews !== undefined) {
    if (!Number.isInteger(o.maxPreviews) || (o.maxPreviews as number) < 1 || (o.maxPreviews as number) > MAX_PREVIEWS_LIMIT) fail('/maxPreviews', `must be an integer from 1 to ${MAX_PREVIEWS_LIMIT}`);
    else out.maxPreviews = o.maxPreviews as number;
  }
  if (o.env !== undefined && o.env !== null) {
    if (!Array.isArray(o.env) || o.env.length > 100) fail('/env', 'must be a list of at most 100 variables');
    else {
      const seen = new Set<string>();
      o.env.forEach((e: unknown, i: number) => {
        if (typeof e !== 'object' || e === null || Array.isArray(e)) return fail(`/env/${i}`, 'must be an object { key, value, secret }');
        const v = e as Record<string, unknown>;
        for (const k of Object.keys(v)) if (!['key', 'value', 'secret'].includes(k)) fail(`/env/${i}/${k.slice(0, 40).replace(/~/g, '~0').replace(/\//g, '~1')}`, 'is not a known field', 'unknown-field');
        const key = v.key;
        if (typeof key !== 'string' || !ENV_KEY.test(key)) return fail(`/env/${i}/key`, 'keys are letters, digits and "_", not starting with a digit');
        if (seen.has(key)) return fail(`/env/${i}/key`, 'appears twice', 'duplicate');
        seen.add(key);
        if (v.secret !== undefined && typeof v.secret !== 'boolean') return fail(`/env/${i}/secret`, 'must be true or false');
        const secret = v.secret === true;
        if (v.value === undefined || v.value === null) {
          if (!secret) return fail(`/env/${i}/value`, 'is required', 'required');
          return out.env.push({ key, value: null, secret });
        }
        if (typeof v.value !== 'string' || v.value.length > 65536 || v.value.includes('\0')) return fail(`/env/${i}/value`, 'must be a string of at most 64 KiB without NUL');
        out.env.push({ key, value: v.value, secret });
      });
    }
  }
  return out;
}

/** GitHub's author associations that mean write access to the repository. */
export const TRUSTED_AUTHOR_ASSOCIATIONS = ['OWNER', 'MEMBER', 'COLLABORATOR'];

/**
 * Whether a pull request deploys without an approval: never from a fork; on GitHub only when the author is an owner,
 * member or collaborator (the other providers do not say, so a same-repository branch counts as written by someone
 * with write access: only they can push branches there). Returns the reason an approval is needed.
 */
export function approvalReason(provider: string, pr: { fromFork: boolean; authorAssociation: string | null }): string | null {
  if (pr.fromFork) return 'the pull request comes from a fork';
  if (provider === 'github' && !TRUSTED_AUTHOR_ASSOCIATIONS.includes(pr.authorAssociation ?? '')) return `the author's association is ${pr.authorAssociation ?? 'unknown'}, not owner, member or collaborator`;
  return null;
}

/** `*.preview.example.com` + 12 + `shop` → `pr-12-shop.preview.example.com` (one DNS label of at most 63 characters). */
export function previewHost(domain: string, number: number, appSlug: string): string {
  const base = domain.replace(/^\*\./, '');
  const label = `pr-${number}-${appSlug}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-').slice(0, 63).replace(/-+$/, '');
  return `${label}.${base}`;
}

/**
 * The preview's spec: the parent's, one replica, no published ports (a preview is reached through its domain, and
 * host ports are the parent's), no bind mounts (named volumes are the preview's own, derived from its id).
 */
export function previewSpec(parent: ApplicationSpec): ApplicationSpec {
  return {
    ...parent,
    replicas: 1,
    ports: [],
    mounts: parent.mounts.filter((m) => m.type === 'volume').map((m) => ({ ...m })),
    labels: { ...parent.labels },
  };
}
