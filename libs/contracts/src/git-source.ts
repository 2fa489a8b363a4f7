/**
 * Git sources of applications: the repository, the ref, the build path, watch paths and how Wharf authenticates. Pure
 * (no Node APIs): the API validates a source with it before storing it, the worker's git adapter
 * (libs/orchestration GitCliAdapter) parses the repository again before running `git`, and the portal can show the
 * same messages. Branch names, URLs and paths are where Git-based PaaS products have had command injection: everything
 * here is an allow-list, and errors name the field without echoing the value (a token pasted into the wrong field must
 * not come back in a response or a log).
 *
 * The host of a repository is checked against loopback/private addresses by `checkGitHost` in libs/orchestration,
 * which resolves the name (this file cannot).
 */

export type GitAuth =
  | { kind: 'none' }
  /** HTTPS with a personal/project access token (Basic auth; username defaults to `x-access-token`). */
  | { kind: 'token'; username?: string; token: string }
  /** SSH with the ed25519 deploy key Wharf generated for the application (the key itself is stored elsewhere). */
  | { kind: 'deploy-key' };

export interface GitSourceInput {
  repository: string;
  /** A branch, a tag (`v1.2`, `refs/tags/v1.2`) or a full commit id (40 or 64 hexadecimal characters). */
  ref: string;
  /** The directory the build starts in, relative to the repository root. Default `.` */
  buildPath?: string;
  /** Globs (picomatch) of paths whose change triggers a deploy; empty = every change. */
  watchPaths?: string[];
  submodules?: boolean;
  /** Globs of tag names whose push deploys that tag's commit (`v*`, `release-*`); empty = tags never deploy. */
  deployTags?: string[];
  auth: GitAuth;
}

export interface GitSource {
  repository: string;
  ref: string;
  buildPath: string;
  watchPaths: string[];
  submodules: boolean;
  deployTags: string[];
  auth: GitAuth;
}

export interface GitRepositoryUrl {
  transport: 'https' | 'ssh';
  /** Lowercase; IPv6 without brackets. */
  host: string;
  port: number | null;
  /** The SSH user (`git`); null for HTTPS. */
  user: string | null;
  /** The path as given, with its leading `/` for URLs (scp-like paths are kept relative, as git reads them). */
  path: string;
  /** The URL handed to `git` (scp-like input stays scp-like). */
  url: string;
}

export type GitFieldErrors = Array<{ field: string; message: string }>;
export type GitSourceValidation = { ok: true; value: GitSource } | { ok: false; errors: GitFieldErrors };

export const GIT_LIMITS = { repository: 2048, ref: 255, path: 1024, watchPaths: 50, deployTags: 20, tagPattern: 100, token: 4096, username: 128 } as const;

// ---------------------------------------------------------------------------------------------------------------------
// Hosts

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function isIpv4Literal(s: string): boolean {
  return IPV4.test(s);
}

/** An IPv6 address without brackets or zone id (`fe80::1%eth0` is refused: a zone picks an interface). */
export function isIpv6Literal(s: string): boolean {
  if (!/^[0-9a-f:.]{2,45}$/i.test(s) || !s.includes(':')) return false;
  const halves = s.split('::');
  if (halves.length > 2) return false;
  const groups = (h: string) => (h === '' ? [] : h.split(':'));
  const parts = [...groups(halves[0]), ...(halves.length === 2 ? groups(halves[1]) : [])];
  let count = 0;
  for (let i = 0; i < parts.length; i++) {
    const g = parts[i];
    if (/^[0-9a-f]{1,4}$/i.test(g)) count += 1;
    else if (i === parts.length - 1 && IPV4.test(g)) count += 2;
    else return false;
  }
  return halves.length === 2 ? count <= 7 : count === 8;
}

/** A DNS name (letters, digits, hyphens; labels of 1–63; at most 253) or an IPv4/IPv6 literal. */
export function isGitHost(host: string): boolean {
  if (isIpv4Literal(host) || isIpv6Literal(host)) return true;
  // Digits-and-dots that are not a valid IPv4 address (`127.1`, `0x7f.1`, `2130706433`) are read as IPv4 by some
  // resolvers: refused so the address check sees the same host git will connect to.
  if (/^[0-9.]+$/.test(host) || /^0x/i.test(host)) return false;
  const h = host.toLowerCase();
  if (h.length === 0 || h.length > 253) return false;
  const labels = h.split('.');
  if (/^[0-9]+$/.test(labels[labels.length - 1])) return false;
  return labels.every((l) => DNS_LABEL.test(l));
}

// ---------------------------------------------------------------------------------------------------------------------
// Repository URLs

const SSH_USER = /^[a-z_][a-z0-9._-]{0,31}$/i;
/** Path characters git and servers use in repository paths; no `%` escapes, quotes, backslashes or shell syntax. */
const REPO_PATH = /^[A-Za-z0-9._~/@+-]+$/;

function checkRepoPath(path: string): string | null {
  if (!REPO_PATH.test(path)) return 'has characters that are not allowed in a repository path';
  const segments = path.split('/').filter((s) => s !== '');
  if (segments.length === 0) return 'must name a repository path';
  if (segments.some((s) => s === '.' || s === '..')) return 'must not contain . or .. path segments';
  if (segments.some((s) => s.startsWith('-'))) return 'must not have a path segment that starts with -';
  return null;
}

/**
 * Reads a repository location: `https://host[:port]/path[.git]`, `ssh://user@host[:port]/path` or scp-like
 * `user@host:path`. Everything else is refused: other transports (`http:`, `git:`, `file:`, `ext::`, `fd::`,
 * `transport::address`), local paths, credentials in the URL, queries and fragments, whitespace and control
 * characters, options (`-…`) and hosts that are not DNS names or IP addresses.
 */
export function parseGitRepository(input: unknown): { ok: true; value: GitRepositoryUrl } | { ok: false; message: string } {
  const no = (message: string) => ({ ok: false as const, message });
  if (typeof input !== 'string' || input.length === 0) return no('is required');
  if (input.length > GIT_LIMITS.repository) return no(`must be at most ${GIT_LIMITS.repository} characters`);
  if (/[\x00-\x20\x7f-\x9f]/.test(input) || /[^\x21-\x7e]/.test(input)) return no('must be printable ASCII without spaces or line breaks');
  if (input.startsWith('-')) return no('must not start with -');
  if (/[\\'"`$;&|<>(){}^*?!#%,=]/.test(input)) {
    return no('has characters that are not allowed in a repository URL');
  }
  if (/^[a-z][a-z0-9+.-]*::/i.test(input)) return no('must be an https:// or ssh:// URL or user@host:path (remote helpers such as ext:: are refused)');

  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(input);
  if (scheme) {
    const proto = scheme[1].toLowerCase();
    if (proto !== 'https' && proto !== 'ssh') return no('must be an https:// or ssh:// URL or user@host:path');
    const rest = input.slice(scheme[0].length);
    const slash = rest.indexOf('/');
    if (slash <= 0) return no('must name a repository path');
    const authority = rest.slice(0, slash);
    const path = rest.slice(slash);
    let user: string | null = null;
    let hostPort = authority;
    const at = authority.lastIndexOf('@');
    if (at >= 0) {
      if (proto === 'https') return no('must not contain credentials (use the token field)');
      user = authority.slice(0, at);
      hostPort = authority.slice(at + 1);
      if (!SSH_USER.test(user)) return no('has an SSH user that is not a plain user name');
    }
    if (proto === 'ssh' && user === null) return no('must name the SSH user (ssh://git@host/path)');
    let host: string;
    let portText: string | undefined;
    const v6 = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(hostPort);
    if (v6) {
      host = v6[1];
      portText = v6[2];
      if (!isIpv6Literal(host)) return no('has a host that is not a DNS name or an IP address');
    } else {
      const m = /^([^:]+)(?::(\d*))?$/.exec(hostPort);
      if (!m) return no('has a host that is not a DNS name or an IP address');
      host = m[1];
      portText = m[2];
      if (portText === '') return no('has an empty port');
      if (!isGitHost(host) || isIpv6Literal(host)) return no('has a host that is not a DNS name or an IP address');
    }
    let port: number | null = null;
    if (portText !== undefined) {
      port = Number(portText);
      if (!/^\d{1,5}$/.test(portText) || port < 1 || port > 65535) return no('has a port outside 1–65535');
    }
    const pathError = checkRepoPath(path);
    if (pathError) return no(pathError);
    if (path.startsWith('//')) return no('must not contain // after the host');
    host = host.toLowerCase();
    const hostText = isIpv6Literal(host) ? `[${host}]` : host;
    const url = `${proto}://${user ? `${user}@` : ''}${hostText}${port !== null ? `:${port}` : ''}${path}`;
    return { ok: true, value: { transport: proto, host, port, user, path, url } };
  }

  // scp-like: user@host:path (git reads it as SSH when there is no slash before the first colon).
  const scp = /^([^@/:]+)@([^:/]+):(.+)$/.exec(input);
  if (scp) {
    const [, user, hostRaw, path] = scp;
    if (!SSH_USER.test(user)) return no('has an SSH user that is not a plain user name');
    const host = hostRaw.toLowerCase();
    if (!isGitHost(host) || isIpv6Literal(host)) return no('has a host that is not a DNS name or an IP address');
    if (path.startsWith('-')) return no('must not have a path that starts with -');
    const pathError = checkRepoPath(path);
    if (pathError) return no(pathError);
    return { ok: true, value: { transport: 'ssh', host, port: null, user, path, url: `${user}@${host}:${path}` } };
  }
  return no('must be an https:// or ssh:// URL or user@host:path');
}

// ---------------------------------------------------------------------------------------------------------------------
// Refs and paths

/** A full commit id: SHA-1 (40) or SHA-256 (64) hexadecimal characters. */
export function isCommitId(ref: unknown): boolean {
  return typeof ref === 'string' && /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(ref);
}

/**
 * `git check-ref-format` rules for a branch or tag name given as `main`, `feature/x`, `refs/heads/main` or
 * `refs/tags/v1` — plus what a refspec would read specially: a leading `+` (force) or `-` (an option), `:` and `*`,
 * and shell characters, which git allows but no real branch needs.
 * Returns null when valid, else the reason (without the value).
 */
export function checkGitRef(ref: unknown): string | null {
  if (typeof ref !== 'string' || ref.length === 0) return 'is required';
  if (ref.length > GIT_LIMITS.ref) return `must be at most ${GIT_LIMITS.ref} characters`;
  if (isCommitId(ref)) return null;
  if (/[\x00-\x20\x7f]/.test(ref)) return 'must not contain spaces, line breaks or control characters';
  if (/[~^:?*[\\]/.test(ref)) return 'must not contain ~ ^ : ? * [ or \\';
  if (/[^\x21-\x7e]/.test(ref)) return 'must be printable ASCII';

  if (ref.startsWith('-')) return 'must not start with -';
  if (ref.startsWith('+')) return 'must not start with +';
  if (ref.includes('..')) return 'must not contain ..';
  if (ref.includes('@{') || ref === '@') return 'must not contain @{ or be @';
  // Legal for git, but never in a real branch name and the stuff of shell injection: refused as defence in depth.
  if (/[$`;&|<>'"(){}!]/.test(ref)) return 'must not contain shell characters ($ ` ; & | < > \' " ( ) { } !)';
  if (ref.startsWith('/') || ref.endsWith('/') || ref.includes('//')) return 'must not start or end with / or contain //';
  if (ref.endsWith('.')) return 'must not end with .';
  for (const component of ref.split('/')) {
    if (component.startsWith('.')) return 'must not have a component that starts with .';
    if (component.endsWith('.lock')) return 'must not have a component that ends with .lock';
  }
  if (ref === 'HEAD' || ref === 'FETCH_HEAD' || ref === 'ORIG_HEAD') return 'must name a branch, a tag or a full commit id';
  if (ref.startsWith('refs/') && !/^refs\/(?:heads|tags)\/./.test(ref)) return 'may only name refs/heads/… or refs/tags/…';
  return null;
}

/**
 * A relative POSIX path: no leading `/` or `-`, no `.`/`..` segments beyond a lone `.`, no backslashes, NUL, line
 * breaks or other control characters. A build path (default) is further limited to letters, digits and `/._@+=,~-`;
 * a watch path (`glob`) may use picomatch's glob syntax (it only ever reaches picomatch).
 */
export function checkRelativePath(path: unknown, options: { glob?: boolean } = {}): string | null {
  if (typeof path !== 'string' || path.length === 0) return 'is required';
  if (path.length > GIT_LIMITS.path) return `must be at most ${GIT_LIMITS.path} characters`;
  if (/[\x00-\x1f\x7f]/.test(path)) return 'must not contain line breaks or control characters';
  if (path.includes('\\')) return 'must use / (not \\) between directories';
  if (path.startsWith('/')) return 'must be relative to the repository root (no leading /)';
  if (path.startsWith('-')) return 'must not start with -';
  if (path === '.' || path === './') return null;
  const segments = path.replace(/^\.\//, '').replace(/\/$/, '').split('/');
  if (segments.some((s) => s === '')) return 'must not contain //';
  if (segments.some((s) => s === '..')) return 'must not contain .. segments';
  if (segments.some((s) => s === '.')) return 'must not contain . segments';
  if (!options.glob && /[*?[\]{}!]/.test(path)) return 'must not contain glob characters';
  if (!options.glob && !/^[A-Za-z0-9._@+=,~/-]+$/.test(path)) return 'may contain only letters, digits, / and . _ @ + = , ~ -';
  return null;
}

/** `./a/b/` → `a/b`; `.` stays `.` */
function normalisePath(path: string): string {
  const p = path.replace(/^\.\//, '').replace(/\/$/, '');
  return p === '' ? '.' : p;
}

// ---------------------------------------------------------------------------------------------------------------------
// The whole source

const FIELDS = ['repository', 'ref', 'buildPath', 'watchPaths', 'submodules', 'deployTags', 'auth'];

/**
 * A tag pattern of `deployTags`: a picomatch glob over tag names (`v*`, `v[0-9]*`, `release-*`, `v{1,2}.*`) from an
 * allow-list of characters (letters, digits, `. _ - / + @` and the glob characters `* ? [ ] { } ,`), at most 100;
 * no leading `-` or `/`, no `..` and no `refs/` prefix (the name alone is matched). Returns null when valid.
 */
export function checkTagPattern(p: unknown): string | null {
  if (typeof p !== 'string' || p.length === 0) return 'is required';
  if (p.length > GIT_LIMITS.tagPattern) return `must be at most ${GIT_LIMITS.tagPattern} characters`;
  if (!/^[A-Za-z0-9._\/+@*?[\]{},-]+$/.test(p)) return 'may only contain letters, digits, . _ - / + @ and the glob characters * ? [ ] { } ,';
  if (p.startsWith('-') || p.startsWith('/')) return 'must not start with - or /';
  if (p.includes('..')) return 'must not contain ..';
  if (p.startsWith('refs/')) return 'names the tag only (no refs/tags/ prefix)';
  return null;
}

/** Checks untrusted input (API bodies, stored settings); errors name the field and never echo a value. */
export function validateGitSource(input: unknown): GitSourceValidation {
  const errors: GitFieldErrors = [];
  const err = (field: string, message: string) => errors.push({ field, message });
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, errors: [{ field: '', message: 'must be an object' }] };
  }
  const o = input as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!FIELDS.includes(k)) err(k, 'is not a field of a Git source');

  const repo = parseGitRepository(o.repository);
  if (!repo.ok) err('repository', repo.message);

  const refError = checkGitRef(o.ref);
  if (refError) err('ref', refError);

  let buildPath = '.';
  if (o.buildPath !== undefined) {
    const e = checkRelativePath(o.buildPath);
    if (e) err('buildPath', e);
    else buildPath = normalisePath(o.buildPath as string);
  }

  const watchPaths: string[] = [];
  if (o.watchPaths !== undefined) {
    if (!Array.isArray(o.watchPaths)) err('watchPaths', 'must be a list of paths');
    else if (o.watchPaths.length > GIT_LIMITS.watchPaths) err('watchPaths', `must hold at most ${GIT_LIMITS.watchPaths} paths`);
    else {
      o.watchPaths.forEach((p, i) => {
        const e = checkRelativePath(p, { glob: true });
        if (e) err(`watchPaths/${i}`, e);
        else watchPaths.push(normalisePath(p as string));
      });
    }
  }

  const deployTags: string[] = [];
  if (o.deployTags !== undefined) {
    if (!Array.isArray(o.deployTags)) err('deployTags', 'must be a list of tag patterns');
    else if (o.deployTags.length > GIT_LIMITS.deployTags) err('deployTags', `must hold at most ${GIT_LIMITS.deployTags} patterns`);
    else {
      o.deployTags.forEach((p, i) => {
        const e = checkTagPattern(p);
        if (e) err(`deployTags/${i}`, e);
        else if (!deployTags.includes(p as string)) deployTags.push(p as string);
      });
    }
  }

  let submodules = false;
  if (o.submodules !== undefined) {
    if (typeof o.submodules !== 'boolean') err('submodules', 'must be true or false');
    else submodules = o.submodules;
  }

  let auth: GitAuth | undefined;
  const a = o.auth;
  if (typeof a !== 'object' || a === null || Array.isArray(a)) err('auth', 'must be an object with a kind');
  else {
    const ao = a as Record<string, unknown>;
    const allowed: Record<string, string[]> = { none: ['kind'], token: ['kind', 'username', 'token'], 'deploy-key': ['kind'] };
    if (typeof ao.kind !== 'string' || !(ao.kind in allowed)) err('auth/kind', 'must be none, token or deploy-key');
    else {
      for (const k of Object.keys(ao)) if (!allowed[ao.kind].includes(k)) err(`auth/${k}`, `is not a field of ${ao.kind} authentication`);
      if (ao.kind === 'none') auth = { kind: 'none' };
      else if (ao.kind === 'deploy-key') auth = { kind: 'deploy-key' };
      else {
        const tokenOk = typeof ao.token === 'string' && ao.token.length > 0 && ao.token.length <= GIT_LIMITS.token && /^[\x21-\x7e]+$/.test(ao.token);
        if (!tokenOk) err('auth/token', `is required: printable characters without spaces or line breaks, at most ${GIT_LIMITS.token}`);
        let username: string | undefined;
        if (ao.username !== undefined) {
          if (typeof ao.username !== 'string' || !/^[A-Za-z0-9._@+-]{1,128}$/.test(ao.username) || ao.username.startsWith('-')) {
            err('auth/username', 'must be a user name (letters, digits, . _ @ + -)');
          } else username = ao.username;
        }
        if (tokenOk) auth = { kind: 'token', token: ao.token as string, ...(username !== undefined ? { username } : {}) };
      }
      if (repo.ok && auth) {
        if (auth.kind === 'token' && repo.value.transport !== 'https') err('auth/kind', 'a token works only with an https:// repository');
        if (auth.kind === 'deploy-key' && repo.value.transport !== 'ssh') err('auth/kind', 'a deploy key works only with an SSH repository');
        if (auth.kind === 'none' && repo.value.transport === 'ssh') err('auth/kind', 'an SSH repository needs a deploy key');
      }
    }
  }

  if (errors.length > 0 || !repo.ok || !auth) return { ok: false, errors };
  return { ok: true, value: { repository: repo.value.url, ref: o.ref as string, buildPath, watchPaths, submodules, deployTags, auth } };
}
