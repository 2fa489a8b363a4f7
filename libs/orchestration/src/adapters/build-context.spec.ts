import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extract } from 'tar-stream';
import { ImageBuildError } from '../ports/image-builder.port';
import { checkDockerfilePath, isInside, packContext, readDockerignore, resolveBuildPaths, scanContext } from './build-context';

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof ImageBuildError ? e.reason : `not an ImageBuildError: ${String(e)}`;
  }
  return undefined;
}

async function reasonOfAsync(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return e instanceof ImageBuildError ? `${e.reason}: ${e.message}` : `not an ImageBuildError: ${String(e)}`;
  }
  return undefined;
}

describe('checkDockerfilePath', () => {
  test.each([
    ['Dockerfile', 'Dockerfile'],
    ['./Dockerfile', 'Dockerfile'],
    ['docker/prod.Dockerfile', 'docker/prod.Dockerfile'],
    ['a//b/./Dockerfile', 'a/b/Dockerfile'],
    ['-rf', '-rf'],
    ['$(id)', '$(id)'],
    ['; rm -rf x', '; rm -rf x'],
    ['a/b/', 'a/b'],
  ])('accepts %j as %j (a file name, never a command or an option)', (given, normalized) => {
    expect(checkDockerfilePath(given)).toBe(normalized);
  });

  test.each(
    ['', '.', './', '/etc/passwd', '../Dockerfile', 'a/../../Dockerfile', 'a/..', '..', 'a\\..\\Dockerfile', 'C:/x', 'Docker\nfile', 'Docker\u0000file', 'a\rb', 'x'.repeat(5000)].map((p) => [JSON.stringify(p).slice(0, 40), p]),
  )(
    'refuses %s',
    (_shown, given) => {
      expect(reasonOf(() => checkDockerfilePath(given))).toBe('invalid-input');
    },
  );

  test('isInside', () => {
    expect(isInside('/a/b', '/a/b')).toBe(true);
    expect(isInside('/a/b', '/a/b/c')).toBe(true);
    expect(isInside('/a/b', '/a/bc')).toBe(false);
    expect(isInside('/a/b', '/a')).toBe(false);
    expect(isInside('/a/b', '/a/b/..c')).toBe(true);
  });
});

describe('resolveBuildPaths and packing', () => {
  let dir: string;
  let root: string;
  let ctx: string;
  const SECRET = `outside-secret-${process.pid}`;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wharf-build-ctx-'));
    root = join(dir, 'checkout');
    ctx = join(root, 'app');
    mkdirSync(join(ctx, 'docker'), { recursive: true });
    writeFileSync(join(dir, 'outside.txt'), SECRET);
    writeFileSync(join(dir, 'Dockerfile'), `FROM scratch\n# ${SECRET}\n`);
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\n');
    writeFileSync(join(ctx, 'docker', 'prod.Dockerfile'), 'FROM scratch\n');
    writeFileSync(join(ctx, 'app.txt'), 'hello');
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('a Dockerfile inside the context resolves; a link to one inside is followed to its real name', async () => {
    expect(await resolveBuildPaths({ contextDir: ctx, rootDir: root, dockerfile: 'Dockerfile' })).toEqual({ contextDir: ctx, dockerfile: 'Dockerfile' });
    symlinkSync('docker/prod.Dockerfile', join(ctx, 'link.Dockerfile'));
    expect(await resolveBuildPaths({ contextDir: ctx, dockerfile: 'link.Dockerfile' })).toEqual({ contextDir: ctx, dockerfile: 'docker/prod.Dockerfile' });
  });

  test('missing Dockerfile, a directory or a dangling link → dockerfile-missing', async () => {
    expect(await reasonOfAsync(resolveBuildPaths({ contextDir: ctx, dockerfile: 'nope/Dockerfile' }))).toMatch(/^dockerfile-missing/);
    expect(await reasonOfAsync(resolveBuildPaths({ contextDir: ctx, dockerfile: 'docker' }))).toMatch(/^dockerfile-missing/);
    symlinkSync('/nonexistent/Dockerfile', join(ctx, 'dangling'));
    expect(await reasonOfAsync(resolveBuildPaths({ contextDir: ctx, dockerfile: 'dangling' }))).toMatch(/^dockerfile-missing/);
  });

  test('a Dockerfile reached through a link out of the context is refused (absolute link, relative link, linked directory)', async () => {
    symlinkSync(join(dir, 'Dockerfile'), join(ctx, 'abs.Dockerfile'));
    symlinkSync('../../Dockerfile', join(ctx, 'rel.Dockerfile'));
    symlinkSync(dir, join(ctx, 'up'));
    for (const dockerfile of ['abs.Dockerfile', 'rel.Dockerfile', 'up/Dockerfile']) {
      expect(await reasonOfAsync(resolveBuildPaths({ contextDir: ctx, dockerfile }))).toMatch(/^invalid-input: The Dockerfile path leads outside/);
    }
    expect(await reasonOfAsync(resolveBuildPaths({ contextDir: ctx, dockerfile: '../Dockerfile' }))).toMatch(/^invalid-input/);
  });

  test('a context outside the source directory (also through a link) is refused', async () => {
    expect(await reasonOfAsync(resolveBuildPaths({ contextDir: dir, rootDir: root, dockerfile: 'Dockerfile' }))).toMatch(/^invalid-input: The build context is outside/);
    symlinkSync(dir, join(root, 'escape'));
    expect(await reasonOfAsync(resolveBuildPaths({ contextDir: join(root, 'escape'), rootDir: root, dockerfile: 'Dockerfile' }))).toMatch(
      /^invalid-input: The build context is outside/,
    );
    expect(await reasonOfAsync(resolveBuildPaths({ contextDir: 'relative/dir', dockerfile: 'Dockerfile' }))).toMatch(/^invalid-input/);
    expect(await reasonOfAsync(resolveBuildPaths({ contextDir: join(dir, 'missing'), dockerfile: 'Dockerfile' }))).toMatch(/^invalid-input/);
  });

  test('packing keeps links as links and never reads through them; special files are left out', async () => {
    symlinkSync(join(dir, 'outside.txt'), join(ctx, 'abs-link'));
    symlinkSync('../../outside.txt', join(ctx, 'rel-link'));
    symlinkSync(dir, join(ctx, 'dir-link'));
    execFileSync('mkfifo', [join(ctx, 'fifo')]);
    const scan = await scanContext(ctx, { maxBytes: 1024 * 1024, maxEntries: 1000 });
    expect(scan.skipped).toEqual(['fifo']);
    const entries = new Map<string, { type: string; linkname?: string; body: string; uid?: number }>();
    await new Promise<void>((resolve, reject) => {
      const x = extract();
      x.on('entry', (h, stream, next) => {
        let body = '';
        stream.on('data', (c: Buffer) => (body += c.toString()));
        stream.on('end', () => {
          entries.set(h.name, { type: h.type ?? '', linkname: h.linkname ?? undefined, body, uid: h.uid });
          next();
        });
      });
      x.on('finish', resolve);
      x.on('error', reject);
      packContext(ctx, scan.entries).on('error', reject).pipe(x);
    });
    expect([...entries.keys()].sort()).toEqual(['Dockerfile', 'abs-link', 'app.txt', 'dir-link', 'docker', 'docker/prod.Dockerfile', 'rel-link']);
    expect(entries.get('abs-link')).toMatchObject({ type: 'symlink', linkname: join(dir, 'outside.txt'), body: '' });
    expect(entries.get('rel-link')).toMatchObject({ type: 'symlink', linkname: '../../outside.txt', body: '' });
    expect(entries.get('dir-link')).toMatchObject({ type: 'symlink', body: '' });
    expect(entries.get('app.txt')).toMatchObject({ type: 'file', body: 'hello', uid: 0 });
    for (const e of entries.values()) expect(e.body).not.toContain(SECRET);
  });

  test('a file swapped for a link after the scan fails the packing instead of reading the target', async () => {
    const scan = await scanContext(ctx, { maxBytes: 1024 * 1024, maxEntries: 1000 });
    rmSync(join(ctx, 'app.txt'));
    symlinkSync(join(dir, 'outside.txt'), join(ctx, 'app.txt'));
    const chunks: Buffer[] = [];
    const err = await new Promise<Error | null>((resolve) => {
      const pack = packContext(ctx, scan.entries);
      pack.on('data', (c: Buffer) => chunks.push(c));
      pack.on('error', (e) => resolve(e));
      pack.on('end', () => resolve(null));
    });
    expect(err?.message).toMatch(/app\.txt.*(ELOOP|symbolic link)/i);
    expect(Buffer.concat(chunks).toString('latin1')).not.toContain(SECRET);
  });

  test('a context over the limit fails with context-too-large before anything is sent', async () => {
    writeFileSync(join(ctx, 'big.bin'), Buffer.alloc(200 * 1024));
    expect(await reasonOfAsync(scanContext(ctx, { maxBytes: 100 * 1024, maxEntries: 1000 }))).toMatch(/^context-too-large/);
    expect(await reasonOfAsync(scanContext(ctx, { maxBytes: 10 * 1024 * 1024, maxEntries: 3 }))).toMatch(/^context-too-large/);
    expect(await reasonOfAsync(scanContext(ctx, { maxBytes: 10 * 1024 * 1024, maxEntries: 100 }))).toBeUndefined();
  });

  test(".dockerignore leaves paths out with Docker's rules; the Dockerfile and .dockerignore are always sent", async () => {
    mkdirSync(join(ctx, 'node_modules', 'dep'), { recursive: true });
    writeFileSync(join(ctx, 'node_modules', 'dep', 'index.js'), 'x');
    mkdirSync(join(ctx, '.git'));
    writeFileSync(join(ctx, '.git', 'HEAD'), 'ref');
    writeFileSync(join(ctx, 'prod.env'), 'TOKEN=1');
    writeFileSync(join(ctx, 'keep.env'), 'PUBLIC=1');
    writeFileSync(join(ctx, '.dockerignore'), '# comment\nnode_modules\n.git\n*.env\n!keep.env\ndocker\n.dockerignore\n');
    const ignore = await readDockerignore(ctx);
    const scan = await scanContext(ctx, { maxBytes: 1024 * 1024, maxEntries: 1000, ignore, keep: ['docker/prod.Dockerfile'] });
    expect(scan.entries.map((e) => e.name).sort()).toEqual(['.dockerignore', 'Dockerfile', 'app.txt', 'docker/prod.Dockerfile', 'keep.env']);
    expect(scan.ignored).toBeGreaterThanOrEqual(4);
    // Without exceptions an ignored directory is not even walked (a huge node_modules costs nothing).
    writeFileSync(join(ctx, '.dockerignore'), 'node_modules\n');
    const noExceptions = await readDockerignore(ctx);
    const scan2 = await scanContext(ctx, { maxBytes: 1024 * 1024, maxEntries: 1000, ignore: noExceptions });
    expect(scan2.entries.map((e) => e.name)).not.toContain('node_modules/dep/index.js');
    expect(scan2.ignored).toBe(1);
  });

  test('a .dockerignore that is a link is refused, not followed', async () => {
    writeFileSync(join(dir, 'ignore-outside'), '*\n');
    symlinkSync(join(dir, 'ignore-outside'), join(ctx, '.dockerignore'));
    expect(await reasonOfAsync(readDockerignore(ctx))).toMatch(/^invalid-input/);
    rmSync(join(ctx, '.dockerignore'));
    expect(await readDockerignore(ctx)).toBeNull();
  });
});
