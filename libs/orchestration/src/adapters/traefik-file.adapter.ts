/**
 * ProxyConfigPort on Traefik's file provider: one `wharf-<install>-<key>.yml` per key in a directory Traefik watches.
 *
 * - Atomic: the content goes to a temporary file in the same directory (a dot-name ending in `.tmp`, which the file
 *   provider ignores), is fsynced, then renamed over the target; the directory is fsynced after the rename. Traefik
 *   therefore sees either the old or the new file, never a partial one, also across a crash.
 * - Only on change: the current content is compared first; an unchanged file is not touched (no inode, mtime or
 *   watcher event), so re-applying a whole installation's routing costs reads, not reloads.
 * - Confined: keys must match PROXY_CONFIG_KEY, the resolved path must sit directly in the directory, and only files
 *   with this install's prefix are listed or removed (several installs may share a directory).
 * - Writes of the same key in this process are serialized (compare-then-rename is one step per key).
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { PROXY_CONFIG_KEY, ProxyConfigPort, ProxyConfigWriteResult } from '../ports/proxy-config.port';

export interface TraefikFileAdapterOptions {
  /** The directory Traefik's file provider watches (must exist or be creatable). */
  directory: string;
  /** This install's id (lowercase letters, digits, hyphens): the prefix of every file it owns. */
  installId: string;
  /** File mode of written files (default 0o640). */
  fileMode?: number;
}

export class ProxyConfigKeyError extends Error {}

const INSTALL_ID = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
const EXTENSION = '.yml';

export class TraefikFileAdapter implements ProxyConfigPort {
  private readonly directory: string;
  private readonly prefix: string;
  private readonly fileMode: number;
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(options: TraefikFileAdapterOptions) {
    if (!INSTALL_ID.test(options.installId)) throw new ProxyConfigKeyError('installId must be lowercase letters, digits and inner hyphens');
    this.directory = path.resolve(options.directory);
    this.prefix = `wharf-${options.installId}-`;
    this.fileMode = options.fileMode ?? 0o640;
  }

  /** Creates the directory if needed (mode 0o750). */
  async ensureDirectory(): Promise<void> {
    await fs.mkdir(this.directory, { recursive: true, mode: 0o750 });
  }

  /** The absolute path of `key`'s file; throws for a key that is not an id-derived name. */
  pathOf(key: string): string {
    if (typeof key !== 'string' || !PROXY_CONFIG_KEY.test(key)) throw new ProxyConfigKeyError('a proxy config key must be lowercase letters, digits and inner hyphens');
    const file = path.resolve(this.directory, `${this.prefix}${key}${EXTENSION}`);
    if (path.dirname(file) !== this.directory) throw new ProxyConfigKeyError('a proxy config file must sit in the proxy directory');
    return file;
  }

  async write(key: string, content: string): Promise<ProxyConfigWriteResult> {
    const file = this.pathOf(key);
    if (typeof content !== 'string') throw new TypeError('content must be a string');
    return this.serialize(key, () => this.writeNow(file, content));
  }

  async remove(key: string): Promise<boolean> {
    const file = this.pathOf(key);
    return this.serialize(key, async () => {
      try {
        await fs.unlink(file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw e;
      }
      await this.syncDirectory();
      return true;
    });
  }

  async list(): Promise<string[]> {
    const names = await fs.readdir(this.directory);
    return names
      .filter((n) => n.startsWith(this.prefix) && n.endsWith(EXTENSION))
      .map((n) => n.slice(this.prefix.length, -EXTENSION.length))
      .filter((k) => PROXY_CONFIG_KEY.test(k))
      .sort();
  }

  async read(key: string): Promise<string | null> {
    const file = this.pathOf(key);
    try {
      const stat = await fs.lstat(file);
      if (!stat.isFile()) return null;
      return await fs.readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  private async writeNow(file: string, content: string): Promise<ProxyConfigWriteResult> {
    const next = Buffer.from(content, 'utf8');
    const current = await this.readIfRegular(file);
    if (current !== null && current.equals(next)) return { changed: false };

    const temp = path.join(this.directory, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    const handle = await fs.open(temp, 'wx', this.fileMode);
    try {
      try {
        await handle.writeFile(next);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(temp, file);
    } catch (e) {
      await fs.unlink(temp).catch(() => undefined);
      throw e;
    }
    await this.syncDirectory();
    return { changed: true };
  }

  /** The file's bytes, or null when absent or not a regular file (a symlink is replaced by the rename, never followed). */
  private async readIfRegular(file: string): Promise<Buffer | null> {
    try {
      const stat = await fs.lstat(file);
      return stat.isFile() ? await fs.readFile(file) : null;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  private async syncDirectory(): Promise<void> {
    const dir = await fs.open(this.directory, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  private serialize<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    const run = previous.then(task, task);
    const settled = run.then(() => undefined, () => undefined);
    this.queues.set(key, settled);
    void settled.then(() => {
      if (this.queues.get(key) === settled) this.queues.delete(key);
    });
    return run;
  }
}
