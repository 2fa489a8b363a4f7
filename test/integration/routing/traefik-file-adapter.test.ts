/**
 * TraefikFileAdapter on a real temporary directory: atomic replace, change-only writes (inode and mtime untouched),
 * concurrent writers, confinement to the directory and to this install's files.
 */
import { promises as fs, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ProxyConfigKeyError, TraefikFileAdapter } from '@wharf/orchestration';

const INSTALL = 'i7k2';
let dir: string;
let adapter: TraefikFileAdapter;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(tmpdir(), 'wharf-traefik-'));
  adapter = new TraefikFileAdapter({ directory: path.join(dir, 'dynamic'), installId: INSTALL });
  await adapter.ensureDirectory();
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const fileOf = (key: string) => path.join(dir, 'dynamic', `wharf-${INSTALL}-${key}.yml`);
const entries = () => fs.readdir(path.join(dir, 'dynamic'));
/** A large, self-checking document: a partial file would fail `complete`. */
const big = (tag: string) => `# begin ${tag}\n${`${tag}: ${'x'.repeat(200)}\n`.repeat(5000)}# end ${tag}\n`;
const complete = (text: string | null) => text === null || /^# begin (\w+)\n[\s\S]*# end \1\n$/.test(text);

describe('TraefikFileAdapter', () => {
  it('writes, reads, lists and removes one key; the file mode is 0640', async () => {
    expect(await adapter.write('app-1', 'http: {}\n')).toEqual({ changed: true });
    expect(await fs.readFile(fileOf('app-1'), 'utf8')).toBe('http: {}\n');
    expect(statSync(fileOf('app-1')).mode & 0o777).toBe(0o640);
    expect(await adapter.read('app-1')).toBe('http: {}\n');
    expect(await adapter.list()).toEqual(['app-1']);
    expect(await adapter.remove('app-1')).toBe(true);
    expect(await adapter.remove('app-1')).toBe(false);
    expect(await adapter.read('app-1')).toBeNull();
    expect(await adapter.list()).toEqual([]);
    expect(await entries()).toEqual([]);
  });

  it('an unchanged content is not written: same inode, same mtime, changed=false', async () => {
    await adapter.write('app-1', 'a: 1\n');
    const before = await fs.stat(fileOf('app-1'), { bigint: true });
    expect(await adapter.write('app-1', 'a: 1\n')).toEqual({ changed: false });
    const after = await fs.stat(fileOf('app-1'), { bigint: true });
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeNs).toBe(before.mtimeNs);
    expect(after.ctimeNs).toBe(before.ctimeNs);
  });

  it('a changed content replaces the file by rename (new inode) and leaves no temporary file', async () => {
    await adapter.write('app-1', 'a: 1\n');
    const before = await fs.stat(fileOf('app-1'));
    expect(await adapter.write('app-1', 'a: 2\n')).toEqual({ changed: true });
    expect((await fs.stat(fileOf('app-1'))).ino).not.toBe(before.ino);
    expect(await fs.readFile(fileOf('app-1'), 'utf8')).toBe('a: 2\n');
    expect(await entries()).toEqual([`wharf-${INSTALL}-app-1.yml`]);
  });

  it('one change touches one file: the other files keep their inode and mtime', async () => {
    for (let i = 0; i < 20; i++) await adapter.write(`app-${i}`, `n: ${i}\n`);
    const before = await Promise.all(Array.from({ length: 20 }, (_, i) => fs.stat(fileOf(`app-${i}`), { bigint: true })));
    await adapter.write('app-7', 'n: changed\n');
    const after = await Promise.all(Array.from({ length: 20 }, (_, i) => fs.stat(fileOf(`app-${i}`), { bigint: true })));
    const touched = after.map((s, i) => (s.ino !== before[i].ino || s.mtimeNs !== before[i].mtimeNs ? i : -1)).filter((i) => i >= 0);
    expect(touched).toEqual([7]);
  });

  it('concurrent writes of the same key (one adapter, and two adapters as two processes would) end with one complete file', async () => {
    const other = new TraefikFileAdapter({ directory: path.join(dir, 'dynamic'), installId: INSTALL });
    const contents = ['a', 'b', 'c', 'd', 'e', 'f'].map(big);
    let reads = 0;
    let writing = true;
    const reader = (async () => {
      // Traefik's view while writers race: never a partial file.
      while (writing) {
        const text = await fs.readFile(fileOf('app-1'), 'utf8').catch(() => null);
        expect(complete(text)).toBe(true);
        reads++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    await Promise.all(contents.flatMap((c, i) => [adapter.write('app-1', c), other.write('app-1', contents[(i + 3) % contents.length])]));
    writing = false;
    await reader;
    const final = await fs.readFile(fileOf('app-1'), 'utf8');
    expect(contents).toContain(final);
    expect(complete(final)).toBe(true);
    expect(reads).toBeGreaterThan(0);
    expect(await entries()).toEqual([`wharf-${INSTALL}-app-1.yml`]);
  });

  it('writes of the same key in one process are applied in call order', async () => {
    const results = await Promise.all([adapter.write('app-1', 'v: 1\n'), adapter.write('app-1', 'v: 2\n'), adapter.write('app-1', 'v: 2\n'), adapter.write('app-1', 'v: 3\n')]);
    expect(results.map((r) => r.changed)).toEqual([true, true, false, true]);
    expect(await adapter.read('app-1')).toBe('v: 3\n');
  });

  it.each(['../escape', 'a/b', 'a\\b', 'A', '', '.hidden', '-x', 'x-', 'x\n', 'x y', 'x.yml', `${'x'.repeat(121)}`, '..'])('refuses the key %j and writes nothing', async (key) => {
    await expect(adapter.write(key, 'x')).rejects.toThrow(ProxyConfigKeyError);
    await expect(adapter.remove(key)).rejects.toThrow(ProxyConfigKeyError);
    expect(await entries()).toEqual([]);
    expect((await fs.readdir(dir)).sort()).toEqual(['dynamic']);
  });

  it('refuses an install id that is not id-shaped', () => {
    for (const installId of ['', 'A', '../x', 'x/y', 'x y']) expect(() => new TraefikFileAdapter({ directory: dir, installId })).toThrow(ProxyConfigKeyError);
  });

  it('lists only this install\'s .yml files (other installs, temporary and foreign files are ignored and never removed)', async () => {
    const d = path.join(dir, 'dynamic');
    await fs.writeFile(path.join(d, 'wharf-other-app-1.yml'), 'x');
    await fs.writeFile(path.join(d, `.wharf-${INSTALL}-app-2.yml.1.abc.tmp`), 'x');
    await fs.writeFile(path.join(d, `wharf-${INSTALL}-app-3.toml`), 'x');
    await fs.writeFile(path.join(d, 'hand-written.yml'), 'x');
    await adapter.write('app-4', 'x: 1\n');
    await adapter.write('acme-challenge', 'x: 1\n');
    expect(await adapter.list()).toEqual(['acme-challenge', 'app-4']);
    expect(await adapter.remove('app-1')).toBe(false);
    expect(await fs.readFile(path.join(d, 'wharf-other-app-1.yml'), 'utf8')).toBe('x');
  });

  it('a symlink planted at a file\'s path is replaced, never followed', async () => {
    const outside = path.join(dir, 'outside.txt');
    await fs.writeFile(outside, 'precious');
    await fs.symlink(outside, fileOf('app-1'));
    expect(await adapter.read('app-1')).toBeNull();
    expect(await adapter.write('app-1', 'a: 1\n')).toEqual({ changed: true });
    expect((await fs.lstat(fileOf('app-1'))).isFile()).toBe(true);
    expect(await fs.readFile(outside, 'utf8')).toBe('precious');
  });
});
