/**
 * How a Git application's image is built (the `build` of its source). Pure (no Node APIs): the API validates settings
 * with it, the worker reads stored settings through it, the portal shows the same messages. Every path is an
 * allow-list (relative, no `..`, no leading `-`, no control characters); errors name the field and never echo a value.
 *
 * Kinds:
 * - `dockerfile`: the repository's Dockerfile (path, target, build arguments).
 * - `static`: the publish directory is served by a small image Wharf generates (busybox httpd on port 8080).
 * - `auto`: the repository's Dockerfile when there is one; otherwise Wharf detects the stack (Node.js, Python, Go,
 *   static) and generates one.
 * - `nixpacks`, `railpack`, `buildpacks` (`pack`): run the tool when it is installed on the build host.
 *
 * Build secrets: names here, values write-only (stored encrypted apart from the settings, never returned); they reach
 * only `RUN --mount=type=secret,id=NAME` steps.
 */
import { checkRelativePath } from './git-source';

export const BUILD_KINDS = ['dockerfile', 'static', 'auto', 'nixpacks', 'railpack', 'buildpacks'] as const;
export type BuildKind = (typeof BUILD_KINDS)[number];

/** The port the generated static-site image (and Node/Python/Go images, through PORT) listens on. */
export const GENERATED_IMAGE_PORT = 8080;

export interface BuildSettings {
  kind: BuildKind;
  /** `dockerfile` (and `auto` when the repository has one): relative to the build path. */
  dockerfile: string;
  target: string | null;
  /** Build arguments (plain values: they end up in the image's history, so never secrets). */
  args: Record<string, string>;
  /** `static`: the directory served, relative to the build path (`.` = the build path itself). */
  publishDirectory: string;
  /** `static`: unknown paths answer with index.html (single-page applications). */
  spaFallback: boolean;
  /** Names of the build secrets (their values are stored encrypted and never shown). */
  secrets: string[];
}

export const BUILD_LIMITS = { args: 100, argValue: 4096, secrets: 50, secretValue: 65536 } as const;

export const BUILD_ARG_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** A build secret id (`RUN --mount=type=secret,id=NAME`): letters, digits, `_`, `.` and `-`, not starting with `.` or `-`. */
export const BUILD_SECRET_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const TARGET = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const FIELDS = ['kind', 'dockerfile', 'target', 'args', 'publishDirectory', 'spaFallback', 'secrets'];

export function defaultBuildSettings(): BuildSettings {
  return { kind: 'dockerfile', dockerfile: 'Dockerfile', target: null, args: {}, publishDirectory: '.', spaFallback: false, secrets: [] };
}

/** Stored settings (older rows lack the newer fields) → complete settings. */
export function normaliseBuildSettings(stored: Partial<BuildSettings> | null | undefined): BuildSettings {
  const d = defaultBuildSettings();
  if (!stored) return d;
  return {
    kind: (BUILD_KINDS as readonly string[]).includes(stored.kind as string) ? (stored.kind as BuildKind) : d.kind,
    dockerfile: stored.dockerfile ?? d.dockerfile,
    target: stored.target ?? null,
    args: { ...(stored.args ?? {}) },
    publishDirectory: stored.publishDirectory ?? d.publishDirectory,
    spaFallback: stored.spaFallback ?? false,
    secrets: [...(stored.secrets ?? [])],
  };
}

/** A publish directory: a relative path (see checkRelativePath) of letters, digits and `/._@+=,~-`. */
export function checkPublishDirectory(path: unknown): string | null {
  return checkRelativePath(path);
}

export interface BuildSettingsValidation {
  value: BuildSettings;
  /** Secret values given in this input (name → value); a name without a value keeps its stored value. */
  secretValues: Record<string, string>;
  errors: Array<{ field: string; message: string }>;
}

/**
 * Checks untrusted build settings. `secrets` is a list of `{ name, value? }`: a value left out keeps the stored one
 * (`storedSecretNames`), a name no longer listed is removed. Field names in errors are relative to `build`.
 */
export function validateBuildSettings(input: unknown, options: { storedSecretNames?: readonly string[] } = {}): BuildSettingsValidation {
  const value = defaultBuildSettings();
  const secretValues: Record<string, string> = {};
  const errors: Array<{ field: string; message: string }> = [];
  const fail = (field: string, message: string): void => {
    errors.push({ field, message });
  };
  if (input === undefined || input === null) return { value, secretValues, errors };
  if (typeof input !== 'object' || Array.isArray(input)) {
    fail('', 'must be an object');
    return { value, secretValues, errors };
  }
  const o = input as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!FIELDS.includes(k)) fail(k.slice(0, 64), 'is not a build setting');
  if (o.kind !== undefined) {
    if (typeof o.kind !== 'string' || !(BUILD_KINDS as readonly string[]).includes(o.kind)) fail('kind', `must be one of ${BUILD_KINDS.join(', ')}`);
    else value.kind = o.kind as BuildKind;
  }
  if (o.dockerfile !== undefined) {
    const e = checkRelativePath(o.dockerfile);
    if (e) fail('dockerfile', e);
    else value.dockerfile = o.dockerfile as string;
  }
  if (o.target !== undefined && o.target !== null) {
    if (typeof o.target !== 'string' || !TARGET.test(o.target)) fail('target', 'must be a build stage name (letters, digits, . _ -)');
    else value.target = o.target;
  }
  if (o.args !== undefined && o.args !== null) {
    if (typeof o.args !== 'object' || Array.isArray(o.args)) fail('args', 'must be an object of names to values');
    else {
      const entries = Object.entries(o.args as Record<string, unknown>);
      if (entries.length > BUILD_LIMITS.args) fail('args', `at most ${BUILD_LIMITS.args} build arguments`);
      for (const [k, v] of entries.slice(0, BUILD_LIMITS.args)) {
        if (!BUILD_ARG_NAME.test(k)) fail(`args/${k.slice(0, 64)}`, 'a build argument name is letters, digits and _ (not starting with a digit)');
        else if (typeof v !== 'string' || v.length > BUILD_LIMITS.argValue || v.includes('\0')) fail(`args/${k}`, `must be a string of at most ${BUILD_LIMITS.argValue} characters`);
        else value.args[k] = v;
      }
    }
  }
  if (o.publishDirectory !== undefined && o.publishDirectory !== null) {
    const e = checkPublishDirectory(o.publishDirectory);
    if (e) fail('publishDirectory', e);
    else value.publishDirectory = normalise(o.publishDirectory as string);
  }
  if (o.spaFallback !== undefined && o.spaFallback !== null) {
    if (typeof o.spaFallback !== 'boolean') fail('spaFallback', 'must be true or false');
    else value.spaFallback = o.spaFallback;
  }
  if (o.secrets !== undefined && o.secrets !== null) {
    if (!Array.isArray(o.secrets)) fail('secrets', 'must be a list of { name, value }');
    else if (o.secrets.length > BUILD_LIMITS.secrets) fail('secrets', `at most ${BUILD_LIMITS.secrets} build secrets`);
    else {
      const stored = new Set(options.storedSecretNames ?? []);
      o.secrets.forEach((s: unknown, i) => {
        const check = (): void => {
        if (typeof s !== 'object' || s === null || Array.isArray(s)) return fail(`secrets/${i}`, 'must be an object { name, value }');
        const so = s as Record<string, unknown>;
        for (const k of Object.keys(so)) if (k !== 'name' && k !== 'value') fail(`secrets/${i}/${k.slice(0, 64)}`, 'is not a field of a build secret');
        if (typeof so.name !== 'string' || !BUILD_SECRET_NAME.test(so.name)) return fail(`secrets/${i}/name`, 'must be letters, digits, _ . - (not starting with . or -), at most 128');
        if (value.secrets.includes(so.name)) return fail(`secrets/${i}/name`, 'is listed twice');
        if (so.value === undefined || so.value === null) {
          if (!stored.has(so.name)) return fail(`secrets/${i}/value`, 'is required for a new build secret');
        } else if (typeof so.value !== 'string' || so.value.length === 0 || so.value.length > BUILD_LIMITS.secretValue || so.value.includes('\0')) {
          return fail(`secrets/${i}/value`, `must be a non-empty string of at most ${BUILD_LIMITS.secretValue} characters`);
        } else secretValues[so.name] = so.value;
        value.secrets.push(so.name);
        };
        check();
      });
    }
  }
  return { value, secretValues, errors };
}

function normalise(path: string): string {
  const p = path.replace(/^\.\//, '').replace(/\/$/, '');
  return p === '' ? '.' : p;
}
