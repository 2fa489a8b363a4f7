import type { Deployment } from '../../core/api/api-types';
import type { ApplicationSource, SetSourceBody } from '../../core/api/sources-api.service';
import type { FieldProblem, Problem } from '../../core/api/problem';

/**
 * The Source tab's form as plain values, and the mappings around it: stored source → form, form → PUT body (a token
 * left empty keeps the stored one), and the API's field errors (JSON pointers into the body) → the form's controls.
 * Pure: the component and its spec share it.
 */
export type AuthKind = 'none' | 'token' | 'deploy-key';
export type SourceKind = 'git' | 'upload';
export type BuildKind = 'dockerfile' | 'static' | 'auto' | 'nixpacks' | 'railpack' | 'buildpacks';
export interface BuildArgRow { name: string; value: string }
/** A build secret row: `value` empty keeps the stored value (`stored`: the server has one; values are never shown). */
export interface BuildSecretRow { name: string; value: string; stored: boolean }

/** The build types as the select offers them. */
export const BUILD_KINDS: ReadonlyArray<{ kind: BuildKind; label: string; hint: string }> = [
  { kind: 'dockerfile', label: 'Dockerfile', hint: 'The repository’s Dockerfile' },
  { kind: 'static', label: 'Static site', hint: 'Serve a directory of files (busybox httpd on port 8080)' },
  { kind: 'auto', label: 'Detect', hint: 'The Dockerfile if there is one, else one generated for Node.js, Python, Go or a static site (port 8080)' },
  { kind: 'nixpacks', label: 'Nixpacks', hint: 'Needs nixpacks installed on the build host' },
  { kind: 'railpack', label: 'Railpack', hint: 'Needs railpack installed on the build host' },
  { kind: 'buildpacks', label: 'Buildpacks (pack)', hint: 'Needs pack installed on the build host' },
];

export interface SourceFormValue {
  /** `git`: a repository; `upload`: uploaded archives (only the build path and the build settings apply). */
  kind?: SourceKind;
  repository: string;
  ref: string;
  buildPath: string;
  /** Globs, one per line. */
  watchPaths: string;
  submodules: boolean;
  /** Tag globs that deploy on push, one per line (empty: tags never deploy). */
  deployTags: string;
  /** `token` empty: keep the stored token (the API never returns it). */
  auth: { kind: AuthKind; username: string; token: string };
  /** The organization's Git provider connection that supplies the credentials; '' for none (then `auth` applies). */
  providerId?: string;
  /** known_hosts lines, one per line (what `ssh-keyscan host` prints). */
  knownHosts: string;
  build: { kind: BuildKind; dockerfile: string; target: string; args: BuildArgRow[]; publishDirectory: string; spaFallback: boolean; secrets: BuildSecretRow[] };
}

export const EMPTY_SOURCE: SourceFormValue = {
  kind: 'git',
  repository: '', ref: 'main', buildPath: '.', watchPaths: '', submodules: false, deployTags: '',
  auth: { kind: 'none', username: '', token: '' },
  providerId: '',
  knownHosts: '',
  build: { kind: 'dockerfile', dockerfile: 'Dockerfile', target: '', args: [], publishDirectory: '.', spaFallback: false, secrets: [] },
};

/** The lines of a text field that hold something (trimmed), in order. */
export function lines(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
}

/** Watch paths as the body's list: one glob per non-empty line. */
export const parseWatchPaths = (text: string): string[] => lines(text);

/** known_hosts lines as the body's list: non-empty lines, without `#` comments (ssh-keyscan prints some on stderr, users paste them). */
export const parseKnownHosts = (text: string): string[] => lines(text).filter((l) => !l.startsWith('#'));

/** Build argument rows as the body's object; rows without a name and a value are left out (an empty form row). */
export function buildArgsFromRows(rows: readonly BuildArgRow[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of rows) {
    const name = r.name.trim();
    if (name === '' && r.value === '') continue;
    out[name] = r.value;
  }
  return out;
}

/** The stored build arguments as rows (in the answer's order). */
export const buildArgRows = (args: Record<string, string>): BuildArgRow[] => Object.entries(args).map(([name, value]) => ({ name, value }));

/** A stored source as the form's value (the token empty: it is never returned; "empty keeps it"). */
export function sourceToForm(s: ApplicationSource): SourceFormValue {
  return {
    kind: s.kind === 'upload' ? 'upload' : 'git',
    repository: s.repository,
    ref: s.ref,
    buildPath: s.buildPath,
    watchPaths: s.watchPaths.join('\n'),
    submodules: s.submodules,
    deployTags: (s.deployTags ?? []).join('\n'),
    auth: { kind: s.auth.kind, username: s.auth.username ?? '', token: '' },
    ...(s.providerId ? { providerId: s.providerId } : {}),
    knownHosts: s.knownHosts.join('\n'),
    build: {
      kind: s.build.kind, dockerfile: s.build.dockerfile, target: s.build.target ?? '', args: buildArgRows(s.build.args),
      publishDirectory: s.build.publishDirectory ?? '.', spaFallback: !!s.build.spaFallback,
      secrets: (s.build.secrets ?? []).map((name) => ({ name, value: '', stored: true })),
    },
  };
}

/**
 * The whole source as the PUT body. Token authentication without a typed token leaves `token` out: the server keeps
 * the stored one (and says the token is required when there is none). known_hosts lines go only with a deploy key
 * (an https repository has no host keys to check).
 */
export function formToBody(v: SourceFormValue): SetSourceBody {
  if (v.kind === 'upload') return { kind: 'upload', buildPath: v.buildPath.trim() || '.', build: buildToBody(v.build) };
  // With a Git provider connection, the connection supplies the credentials: the source's own auth is none.
  const auth: SetSourceBody['auth'] = v.providerId ? { kind: 'none' } : v.auth.kind === 'token'
    ? { kind: 'token', ...(v.auth.username.trim() ? { username: v.auth.username.trim() } : {}), ...(v.auth.token !== '' ? { token: v.auth.token } : {}) }
    : { kind: v.auth.kind };
  return {
    repository: v.repository.trim(),
    ref: v.ref.trim(),
    buildPath: v.buildPath.trim() || '.',
    watchPaths: parseWatchPaths(v.watchPaths),
    submodules: v.submodules,
    deployTags: lines(v.deployTags),
    auth,
    ...(v.providerId ? { providerId: v.providerId } : {}),
    knownHosts: !v.providerId && v.auth.kind === 'deploy-key' ? parseKnownHosts(v.knownHosts) : [],
    build: buildToBody(v.build),
  };
}

/** The build settings as the body's `build` (Git and upload sources alike). */
function buildToBody(b: SourceFormValue['build']): NonNullable<SetSourceBody['build']> {
  return {
    kind: b.kind, dockerfile: b.dockerfile.trim() || 'Dockerfile', target: b.target.trim() || null, args: buildArgsFromRows(b.args),
    publishDirectory: b.publishDirectory.trim() || '.', spaFallback: b.spaFallback,
    // A secret row without a typed value keeps the stored value (the value is left out of the body).
    secrets: b.secrets.map((r) => ({ name: r.name.trim(), ...(r.value !== '' ? { value: r.value } : {}) })),
  };
}

/** The Content-Type an archive is sent with, from its file name; null for what the API does not take. */
export function archiveContentType(fileName: string): 'application/gzip' | 'application/x-tar' | 'application/zip' | null {
  const n = fileName.toLowerCase();
  if (n.endsWith('.tar.gz') || n.endsWith('.tgz')) return 'application/gzip';
  if (n.endsWith('.tar')) return 'application/x-tar';
  if (n.endsWith('.zip')) return 'application/zip';
  return null;
}

/** A byte count as people read it: 512 B, 1.5 KiB, 12.3 MiB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? Math.round(v) : Math.round(v * 10) / 10} ${units[i]}`;
}

const unescape = (s: string) => s.replace(/~1/g, '/').replace(/~0/g, '~');

/** The 1-based line of the text field holding the `index`-th entry `entries` picked out of it. */
function lineOf(text: string, keep: (line: string) => boolean, index: number): number | null {
  let n = -1;
  const all = text.split(/\r?\n/);
  for (let i = 0; i < all.length; i++) {
    if (keep(all[i].trim()) && ++n === index) return i + 1;
  }
  return null;
}

/**
 * The API's field errors rewritten to point at the form's controls, one error per control (several details joined):
 * - `/watchPaths/<i>`, `/deployTags/<i>` and `/knownHosts/<i>` → their text field, naming the line;
 * - `/build/args/<name>` → the row holding that name (its value field when the message is about the value);
 * - `/build/secrets/<i>/name|value` → that secret row (rows are sent in order);
 * - `/repository`, `/ref`, `/buildPath`, `/auth/kind|username|token`, `/build/kind|dockerfile|target|publishDirectory` → as they are.
 * What names no field the form shows (the checkbox, a whole list, an unknown field) gets an empty pointer: shown above the form.
 */
export function sourceErrorsToForm(problem: Problem, v: SourceFormValue): Problem {
  const out = new Map<string, FieldProblem>();
  for (const e of problem.errors ?? []) {
    const [field, ...rest] = e.pointer.split('/').filter(Boolean).map(unescape);
    let pointer = '';
    let detail = e.detail;
    if ((field === 'repository' || field === 'ref' || field === 'buildPath') && rest.length === 0) {
      pointer = `/${field}`;
    } else if (field === 'auth' && rest.length === 1 && ['kind', 'username', 'token'].includes(rest[0])) {
      pointer = `/auth/${rest[0]}`;
    } else if (field === 'watchPaths' || field === 'knownHosts' || field === 'deployTags') {
      pointer = `/${field}`;
      if (rest.length === 1 && /^\d+$/.test(rest[0])) {
        const keep = field === 'knownHosts' ? (l: string) => l !== '' && !l.startsWith('#') : (l: string) => l !== '';
        const line = lineOf(v[field], keep, Number(rest[0]));
        if (line !== null) detail = `line ${line}: ${detail}`;
      }
    } else if (field === 'build' && rest.length === 1 && ['kind', 'dockerfile', 'target', 'publishDirectory'].includes(rest[0])) {
      pointer = `/build/${rest[0]}`;
    } else if (field === 'build' && rest[0] === 'secrets' && rest.length === 3 && /^\d+$/.test(rest[1]) && (rest[2] === 'name' || rest[2] === 'value')) {
      pointer = `/build/secrets/${rest[1]}/${rest[2]}`;
    } else if (field === 'build' && rest[0] === 'args' && rest.length >= 2) {
      const name = rest.slice(1).join('/');
      const i = v.build.args.findIndex((r) => r.name.trim() === name || (name.length >= 64 && r.name.trim().startsWith(name)));
      if (i >= 0) pointer = `/build/args/${i}/${/must be a string/.test(detail) ? 'value' : 'name'}`;
    }
    const prev = pointer ? out.get(pointer) : undefined;
    if (prev) prev.detail = `${prev.detail}; ${detail}`;
    else out.set(pointer || `#${out.size}`, { ...e, pointer, detail });
  }
  return { ...problem, errors: [...out.values()] };
}

/** The webhook URL a provider is given: Wharf's address (the portal's origin) and the path the API names. */
export function webhookUrls(webhooks: Record<string, string>, origin: string): Array<{ provider: string; url: string }> {
  const base = origin.replace(/\/+$/, '');
  return Object.entries(webhooks).map(([provider, path]) => ({ provider, url: `${base}${path.startsWith('/') ? path : `/${path}`}` }));
}

/** A commit id as people read it: its first 7 characters. */
export const shortSha = (sha: string | null | undefined): string => (sha ? sha.slice(0, 7) : '');

/** The first line of a commit message (trimmed). */
export const firstLine = (message: string | null | undefined): string => (message ?? '').split(/\r?\n/, 1)[0].trim();

/** What a Git deployment built, for the history: short sha, the message's first line and the author (an upload: its sha256 and file name); null for image deployments. */
export function deploymentCommit(d: Pick<Deployment, 'source'>): { sha: string; fullSha: string; subject: string; author: string; ref: string } | null {
  const s = d.source;
  if (!s) return null;
  // An uploaded archive: its sha256 (first 12 characters) and file name where a commit shows its id and subject.
  if (s.kind === 'upload' && s.upload) return { sha: s.upload.sha256.slice(0, 12), fullSha: `sha256 ${s.upload.sha256}`, subject: s.upload.fileName, author: s.author ?? '', ref: 'upload' };
  return { sha: shortSha(s.commit), fullSha: s.commit ?? '', subject: firstLine(s.message), author: s.author ?? '', ref: s.ref };
}
