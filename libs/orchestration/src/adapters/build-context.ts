/**
 * The build context: checking the paths a repository controls (context directory, Dockerfile) and packing the context
 * into a tar without ever following a symbolic link. Links are packed as links (their target text unchanged); the
 * engine resolves them inside the context root, so a link to `/etc/passwd` or `../../secret` copies nothing from the
 * host.
 */
import { constants } from 'node:fs';
import { lstat, open, readdir, readlink, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import dockerignore from '@balena/dockerignore';
import { pack as tarPack, type Pack } from 'tar-stream';
import { ImageBuildError } from '../ports/image-builder.port';

const MAX_PATH = 4096;

/**
 * A Dockerfile path as given (relative to the context) → its normalized form (`a/b/Dockerfile`), or an ImageBuildError
 * (`invalid-input`) when it is empty, absolute, contains `..`, a backslash or a control character.
 */
export function checkDockerfilePath(path: string): string {
  if (typeof path !== 'string' || path.length === 0) throw invalid('The Dockerfile path is empty.');
  if (path.length > MAX_PATH) throw invalid('The Dockerfile path is too long.');
  if (/[\u0000-\u001f\u007f]/.test(path)) throw invalid('The Dockerfile path contains a control character.');
  if (path.includes('\\')) throw invalid('The Dockerfile path contains a backslash.');
  if (path.startsWith('/') || isAbsolute(path) || /^[A-Za-z]:/.test(path)) throw invalid('The Dockerfile path must be relative to the build context.');
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) throw invalid('The Dockerfile path must not contain "..".');
  if (parts.length === 0) throw invalid('The Dockerfile path names no file.');
  return parts.join('/');
}

/** Whether `child` is `parent` or inside it (both absolute, normalized). */
export function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

export interface ResolvedBuildPaths {
  /** The context directory with links resolved. */
  contextDir: string;
  /** The Dockerfile relative to `contextDir`, links resolved (what the engine is told), `/`-separated. */
  dockerfile: string;
}

/**
 * Resolves the context and the Dockerfile on disk: the context must be a directory (inside `rootDir` when given, links
 * resolved), the Dockerfile a regular file inside the context once links are resolved.
 */
export async function resolveBuildPaths(input: { contextDir: string; rootDir?: string; dockerfile: string; generatedDockerfile?: boolean }): Promise<ResolvedBuildPaths> {
  const dockerfile = checkDockerfilePath(input.dockerfile);
  if (typeof input.contextDir !== 'string' || !isAbsolute(input.contextDir)) throw invalid('The build context must be an absolute directory.');
  if (/[\u0000]/.test(input.contextDir)) throw invalid('The build context path contains a NUL character.');
  let contextDir: string;
  try {
    contextDir = await realpath(input.contextDir);
  } catch {
    throw invalid('The build context directory does not exist.');
  }
  if (!(await stat(contextDir)).isDirectory()) throw invalid('The build context is not a directory.');
  if (input.rootDir !== undefined) {
    let root: string;
    try {
      root = await realpath(input.rootDir);
    } catch {
      throw invalid('The source directory does not exist.');
    }
    if (!isInside(root, contextDir)) throw invalid('The build context is outside the source directory.');
  }
  // A Dockerfile Wharf generated is added to the context by the packer (it is not on disk).
  if (input.generatedDockerfile) return { contextDir, dockerfile };
  const given = join(contextDir, ...dockerfile.split('/'));
  let real: string;
  try {
    real = await realpath(given);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      // Also a dangling link: nothing is read through it.
      throw new ImageBuildError(`No Dockerfile at "${dockerfile}" in the build context.`, 'dockerfile-missing');
    }
    if (code === 'ELOOP') throw invalid('The Dockerfile path is a link loop.');
    throw e;
  }
  if (!isInside(contextDir, real)) throw invalid('The Dockerfile path leads outside the build context.');
  if (!(await stat(real)).isFile()) throw new ImageBuildError(`"${dockerfile}" in the build context is not a file.`, 'dockerfile-missing');
  return { contextDir, dockerfile: relative(contextDir, real).split(sep).join('/') };
}

export interface ContextEntry {
  /** `/`-separated, relative to the context. */
  name: string;
  type: 'file' | 'directory' | 'symlink';
  size: number;
  mode: number;
  mtime: Date;
  linkname?: string;
}

/** Largest .dockerignore read. */
const MAX_DOCKERIGNORE = 1024 * 1024;

export interface ContextIgnore {
  /** Whether a path (relative, `/`-separated) is left out. */
  ignores(rel: string): boolean;
  /** With `!` exceptions an ignored directory must still be walked (a file inside may be re-included). */
  hasExceptions: boolean;
  /** The file as read. */
  text: string;
}

/**
 * The context's `.dockerignore` (Docker's pattern rules), or null when there is none. A link or anything but a small
 * regular file is refused (`invalid-input`) rather than followed.
 */
export async function readDockerignore(contextDir: string): Promise<ContextIgnore | null> {
  const path = join(contextDir, '.dockerignore');
  let st;
  try {
    st = await lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  if (!st.isFile()) throw invalid('.dockerignore must be a regular file (not a link or a directory).');
  if (st.size > MAX_DOCKERIGNORE) throw invalid('.dockerignore is larger than 1 MiB.');
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  let text: string;
  try {
    text = await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
  const patterns = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const ig = dockerignore({ ignorecase: false }).add(patterns);
  return { ignores: (rel) => ig.ignores(rel), hasExceptions: patterns.some((p) => p.startsWith('!')), text };
}

export interface ContextScan {
  entries: ContextEntry[];
  /** File bytes plus tar headers: about what is sent. */
  bytes: number;
  /** Sockets, FIFOs and devices, which are left out. */
  skipped: string[];
  /** How many paths .dockerignore left out (a directory left out whole counts once). */
  ignored: number;
}

/**
 * Lists the context without following links (lstat only), in a stable order, failing with `context-too-large` as soon as
 * the sum passes `maxBytes` or the count passes `maxEntries`.
 */
export async function scanContext(
  contextDir: string,
  limits: { maxBytes: number; maxEntries: number; signal?: AbortSignal; ignore?: ContextIgnore | null; keep?: string[] },
): Promise<ContextScan> {
  const entries: ContextEntry[] = [];
  const skipped: string[] = [];
  let ignored = 0;
  // The Dockerfile and .dockerignore are always sent (as the docker CLI does), whatever the patterns say.
  const keep = new Set(['.dockerignore', ...(limits.keep ?? [])]);
  const keepDirs = new Set([...keep].flatMap((k) => k.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))));
  const ig = limits.ignore ?? null;
  let bytes = 1024;
  const tooLarge = () =>
    new ImageBuildError(
      `The build context is larger than the limit (${formatBytes(limits.maxBytes)}, ${limits.maxEntries} entries); add a .dockerignore or choose a narrower build path.`,
      'context-too-large',
    );
  const walk = async (dir: string, prefix: string): Promise<void> => {
    limits.signal?.throwIfAborted();
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      const abs = join(dir, name);
      const rel = prefix ? `${prefix}/${name}` : name;
      const st = await lstat(abs);
      const base = { name: rel, mode: st.mode & 0o7777, mtime: st.mtime };
      const isIgnored = ig !== null && !keep.has(rel) && ig.ignores(rel);
      if (isIgnored) {
        ignored++;
        // An ignored directory is walked only when an exception (or the Dockerfile) may be inside it.
        if (st.isDirectory() && (ig.hasExceptions || keepDirs.has(rel))) await walk(abs, rel);
        continue;
      }
      if (st.isSymbolicLink()) {
        entries.push({ ...base, type: 'symlink', size: 0, linkname: await readlink(abs) });
        bytes += 512;
      } else if (st.isDirectory()) {
        entries.push({ ...base, type: 'directory', size: 0 });
        bytes += 512;
        if (entries.length > limits.maxEntries) throw tooLarge();
        await walk(abs, rel);
      } else if (st.isFile()) {
        entries.push({ ...base, type: 'file', size: st.size });
        bytes += 512 + Math.ceil(st.size / 512) * 512;
      } else {
        skipped.push(rel);
      }
      if (bytes > limits.maxBytes || entries.length > limits.maxEntries) throw tooLarge();
    }
  };
  await walk(contextDir, '');
  return { entries, bytes, skipped, ignored };
}

/**
 * Streams the scanned entries as an uncompressed tar (owner 0:0, permission bits kept). Files are opened with
 * O_NOFOLLOW, so a file swapped for a link after the scan fails the build instead of packing the link's target; a file
 * whose size changed fails it too ("size mismatch"). `signal` stops the packing. `replaced` are files at the context's
 * root whose content is given: one of the same name in the context is sent with that content instead (its mode and
 * time kept), the others are added (0644).
 */
export function packContext(
  contextDir: string,
  entries: ContextEntry[],
  signal?: AbortSignal,
  generated?: { dir: string; files: Record<string, string> },
  replaced: Record<string, string> = {},
): Pack {
  const pack = tarPack();
  const onAbort = () => pack.destroy(new Error('Build context packing aborted'));
  signal?.addEventListener('abort', onAbort, { once: true });
  const pending = new Map(Object.entries(replaced));
  const addText = (header: Parameters<Pack['entry']>[0], content: string) =>
    new Promise<void>((resolve, reject) => {
      pack.entry(header, content, (err) => (err ? reject(err) : resolve()));
    });
  const run = async () => {
    for (const e of entries) {
      if (signal?.aborted) return;
      const header = { name: e.name, mode: e.mode, mtime: e.mtime, uid: 0, gid: 0, uname: '', gname: '' };
      const content = pending.get(e.name);
      if (content !== undefined) {
        pending.delete(e.name);
        await addText({ ...header, mode: e.type === 'file' ? e.mode : 0o644, type: 'file' }, content);
      } else if (e.type === 'directory') {
        await addEntry(pack, { ...header, type: 'directory' });
      } else if (e.type === 'symlink') {
        await addEntry(pack, { ...header, type: 'symlink', linkname: e.linkname });
      } else {
        await addFile(pack, { ...header, type: 'file', size: e.size }, join(contextDir, ...e.name.split('/')));
      }
    }
    const mtime = new Date(0);
    if (generated) {
      await addEntry(pack, { name: generated.dir, mode: 0o755, mtime, uid: 0, gid: 0, uname: '', gname: '', type: 'directory' });
      for (const [name, content] of Object.entries(generated.files).sort(([a], [b]) => a.localeCompare(b))) {
        await addText({ name: `${generated.dir}/${name}`, mode: 0o644, mtime, uid: 0, gid: 0, uname: '', gname: '', type: 'file' }, content);
      }
    }
    for (const [name, content] of [...pending].sort(([a], [b]) => a.localeCompare(b))) {
      await addText({ name, mode: 0o644, mtime, uid: 0, gid: 0, uname: '', gname: '', type: 'file' }, content);
    }
    pack.finalize();
  };
  run()
    .catch((err: Error) => pack.destroy(err))
    .finally(() => signal?.removeEventListener('abort', onAbort));
  return pack;
}

function addEntry(pack: Pack, header: Parameters<Pack['entry']>[0]): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry(header, (err) => (err ? reject(err) : resolve()));
  });
}

async function addFile(pack: Pack, header: Parameters<Pack['entry']>[0], path: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    throw new Error(`Could not read ${header.name} from the build context: ${(err as Error).message}`);
  }
  const file = handle.createReadStream();
  await new Promise<void>((resolve, reject) => {
    let settled = false;
    const done = (err?: Error | null) => {
      if (settled) return;
      settled = true;
      if (err) reject(err);
      else resolve();
    };
    const entry = pack.entry(header, (err) => done(err));
    file.on('error', (err) => {
      entry.destroy(err);
      done(new Error(`Could not read ${header.name} from the build context: ${err.message}`));
    });
    file.pipe(entry);
  }).finally(() => file.destroy());
}

function invalid(message: string): ImageBuildError {
  return new ImageBuildError(message, 'invalid-input');
}

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}
