import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { checkEntryPath, checkSymlinkTarget, sniffUploadFormat, uploadFileName } from '@wharf/contracts';
import { type TarEntry as Entry, tarOf } from '../../../../test/support/tar-writer';
import { zipOf } from '../../../../test/support/zip-writer';
import { type ArchiveLimits, ArchiveRefusedError, ArchiveStoppedError, extractArchive, META_ENTRY_MAX_BYTES, walkArchive, walkZip } from './archive';


const limits: ArchiveLimits = { maxEntries: 100, maxExtractedBytes: 1024 * 1024 };

describe('archive entry rules (@wharf/contracts)', () => {
  it('normalises relative paths and refuses absolute, traversing, control-character and over-long ones', () => {
    expect(checkEntryPath('./a//b/')).toEqual({ ok: true, path: 'a/b' });
    expect(checkEntryPath('.')).toEqual({ ok: true, path: '' });
    expect(checkEntryPath('/etc/passwd')).toMatchObject({ ok: false, reason: 'absolute-path' });
    expect(checkEntryPath('C:/x')).toMatchObject({ ok: false, reason: 'absolute-path' });
    expect(checkEntryPath('a/../../x')).toMatchObject({ ok: false, reason: 'path-traversal' });
    expect(checkEntryPath('..')).toMatchObject({ ok: false, reason: 'path-traversal' });
    expect(checkEntryPath('a\nb')).toMatchObject({ ok: false, reason: 'invalid-path' });
    expect(checkEntryPath('a\\..\\b')).toMatchObject({ ok: false, reason: 'invalid-path' });
    expect(checkEntryPath('x'.repeat(256))).toMatchObject({ ok: false, reason: 'path-too-long' });
    expect(checkEntryPath(Array(70).fill('d').join('/'))).toMatchObject({ ok: false, reason: 'path-too-long' });
  });

  it('allows symbolic links that stay inside the archive, refuses the others', () => {
    expect(checkSymlinkTarget('a/b/link', '../c')).toBeNull();
    expect(checkSymlinkTarget('a/link', 'b/../c')).toBeNull();
    expect(checkSymlinkTarget('link', '../x')).toMatch(/outside/);
    expect(checkSymlinkTarget('a/link', '../../x')).toMatch(/outside/);
    expect(checkSymlinkTarget('a/link', '/etc/passwd')).toMatch(/absolute/);
  });

  it('sniffs gzip and tar, and records a safe base name', async () => {
    const tar = await tarOf([{ name: 'a', body: 'x' }]);
    expect(sniffUploadFormat(tar)).toBe('tar');
    expect(sniffUploadFormat(gzipSync(tar))).toBe('tar.gz');
    expect(sniffUploadFormat(Buffer.from('hello world'))).toBeNull();
    expect(uploadFileName('../../etc/site.tar.gz', 'tar.gz')).toBe('site.tar.gz');
    expect(uploadFileName('a\u0000b<script>.tgz', 'tar.gz')).toBe('a_b_script_.tgz');
    expect(uploadFileName(undefined, 'tar')).toBe('source.tar');
  });
});

describe('extractArchive', () => {
  let base: string;
  let root: string;
  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'wharf-archive-'));
    root = join(base, 'root');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(root, { mode: 0o700 });
  });
  afterEach(async () => rm(base, { recursive: true, force: true }));

  const extract = (buf: Buffer, format: 'tar' | 'tar.gz' = 'tar', l = limits) => extractArchive(Readable.from([buf]), format, root, l);
  /** Rejects with ArchiveRefusedError carrying `reason`; the message is returned. */
  async function refused(p: Promise<unknown>, reason: string): Promise<string> {
    const e = await p.then(() => null, (x: unknown) => x);
    expect(e).toBeInstanceOf(ArchiveRefusedError);
    expect((e as ArchiveRefusedError).reason).toBe(reason);
    return (e as Error).message;
  }
  /** Nothing exists beside the extraction root (the test's own directory holds only it). */
  const nothingOutside = async () => expect(await readdir(base)).toEqual(['root']);

  it('extracts files, directories, executable bits, inner links and hard links (as copies) from a tar.gz', async () => {
    const tar = await tarOf([
      { name: 'app/', type: 'directory', mode: 0o777 },
      { name: 'app/Dockerfile', body: 'FROM scratch\n' },
      { name: 'app/run.sh', body: '#!/bin/sh\n', mode: 0o4755 },
      { name: 'app/docs/readme', body: 'hi' },
      { name: 'app/link', type: 'symlink', linkname: 'docs/readme' },
      { name: 'app/docs/up', type: 'symlink', linkname: '../Dockerfile' },
      { name: 'app/copy', type: 'link', linkname: 'app/docs/readme' },
    ]);
    const s = await extract(gzipSync(tar), 'tar.gz');
    expect(s).toEqual({ entries: 7, files: 4, bytes: 13 + 10 + 2 + 2 });
    expect(await readFile(join(root, 'app/Dockerfile'), 'utf8')).toBe('FROM scratch\n');
    expect((await stat(join(root, 'app/run.sh'))).mode & 0o7777).toBe(0o755);
    expect((await stat(join(root, 'app/Dockerfile'))).mode & 0o7777).toBe(0o644);
    expect((await stat(join(root, 'app'))).mode & 0o7777).toBe(0o755);
    expect(await readlink(join(root, 'app/link'))).toBe('docs/readme');
    expect(await readFile(join(root, 'app/copy'), 'utf8')).toBe('hi');
    expect((await stat(join(root, 'app/copy'))).ino).not.toBe((await stat(join(root, 'app/docs/readme'))).ino);
  });

  it('refuses ../ traversal and absolute paths, writing nothing outside', async () => {
    expect(await refused(extract(await tarOf([{ name: 'ok', body: '1' }, { name: '../escaped', body: 'x' }])), 'path-traversal')).toMatch(/"\.\.\/escaped"/);
    expect(await refused(extract(await tarOf([{ name: 'a/../../escaped', body: 'x' }])), 'path-traversal')).toBeTruthy();
    expect(await refused(extract(await tarOf([{ name: `${base}/abs`, body: 'x' }])), 'absolute-path')).toMatch(/absolute/);
    expect(existsSync(join(base, 'escaped'))).toBe(false);
    expect(existsSync(join(base, 'abs'))).toBe(false);
    await nothingOutside();
  });

  it('refuses links out of the archive, entries below a link, and hard links to anything but an earlier file', async () => {
    expect(await refused(extract(await tarOf([{ name: 'out', type: 'symlink', linkname: '../..' }])), 'link-escape')).toMatch(/outside/);
    expect(await refused(extract(await tarOf([{ name: 'etc', type: 'symlink', linkname: '/etc' }])), 'link-escape')).toMatch(/absolute/);
    // A link inside, then a file written "through" it: refused before anything is written below the link.
    expect(await refused(extract(await tarOf([{ name: 'in', type: 'symlink', linkname: '.' }, { name: 'in/x', body: 'x' }])), 'under-a-link')).toMatch(/below the symbolic link "in"/);
    expect(await refused(extract(await tarOf([{ name: 'h', type: 'link', linkname: '../../etc/passwd' }])), 'link-escape')).toBeTruthy();
    expect(await refused(extract(await tarOf([{ name: 'h', type: 'link', linkname: 'missing' }])), 'hardlink')).toBeTruthy();
    // Lexically inside, physically outside (a link through a link to the root): caught after extraction.
    expect(await refused(extract(await tarOf([{ name: 's', type: 'symlink', linkname: '.' }, { name: 'l', type: 'symlink', linkname: 's/..' }])), 'link-escape')).toMatch(/resolves outside/);
    await nothingOutside();
  });

  it('refuses devices, FIFOs and duplicate entries', async () => {
    expect(await refused(extract(await tarOf([{ name: 'null', type: 'character-device', devmajor: 1, devminor: 3 }])), 'special-file')).toMatch(/character-device/);
    expect(await refused(extract(await tarOf([{ name: 'sda', type: 'block-device', devmajor: 8, devminor: 0 }])), 'special-file')).toBeTruthy();
    expect(await refused(extract(await tarOf([{ name: 'pipe', type: 'fifo' }])), 'special-file')).toBeTruthy();
    expect(await refused(extract(await tarOf([{ name: 'a', body: '1' }, { name: 'a', body: '2' }])), 'duplicate-entry')).toMatch(/twice/);
    expect(await refused(extract(await tarOf([{ name: 'd/f', body: '1' }, { name: 'd', type: 'symlink', linkname: 'x' }])), 'duplicate-entry')).toBeTruthy();
  });

  it('enforces the entry count, the extracted size (a gzip bomb stops at the limit) and metadata sizes', async () => {
    const many = await tarOf(Array.from({ length: 11 }, (_, i) => ({ name: `f${i}`, body: '' })));
    expect(await refused(extract(many, 'tar', { maxEntries: 10, maxExtractedBytes: 1024 }), 'too-many-entries')).toMatch(/more than 10 entries/);
    const big = await tarOf([{ name: 'zeros', body: Buffer.alloc(2 * 1024 * 1024) }]);
    const bomb = gzipSync(big);
    expect(bomb.length).toBeLessThan(20_000);
    expect(await refused(extract(bomb, 'tar.gz'), 'too-large-extracted')).toMatch(/larger than 1 MiB/);
    // A PAX header bigger than the metadata limit is refused before the parser would hold it in memory.
    const longName = await tarOf([{ name: 'x', body: '1', pax: { comment: 'c'.repeat(META_ENTRY_MAX_BYTES + 10) } } as Entry]);
    expect(await refused(extract(longName, 'tar', { maxEntries: 10, maxExtractedBytes: 8 * 1024 * 1024 }), 'path-too-long')).toMatch(/metadata entry/);
  });

  it('refuses garbage, a truncated archive and an empty one as not-an-archive / empty-archive', async () => {
    expect(await refused(extract(Buffer.from('this is not a tar archive at all'.repeat(40))), 'not-an-archive')).toMatch(/not a readable tar/);
    expect(await refused(extract(Buffer.from('garbage'), 'tar.gz'), 'not-an-archive')).toMatch(/tar\.gz/);
    const tar = await tarOf([{ name: 'a', body: 'x'.repeat(4000) }]);
    expect(await refused(extract(gzipSync(tar).subarray(0, 40), 'tar.gz'), 'not-an-archive')).toBeTruthy();
    expect(await refused(extract(await tarOf([])), 'empty-archive')).toBeTruthy();
  });

  it('an aborted signal stops the walk between entries', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(extract(await tarOf([{ name: 'a', body: '1' }]), 'tar', { ...limits, signal: ac.signal })).rejects.toBeInstanceOf(ArchiveStoppedError);
    expect(await readdir(root)).toEqual([]);
  });

  it('the inspection (no visitor) applies the same rules without writing anything', async () => {
    await expect(walkArchive(Readable.from([await tarOf([{ name: 'a/b', body: 'xyz' }])]), 'tar', limits)).resolves.toEqual({ entries: 1, files: 1, bytes: 3 });
    await expect(walkArchive(Readable.from([await tarOf([{ name: '../x', body: '1' }])]), 'tar', limits)).rejects.toMatchObject({ reason: 'path-traversal' });
    expect(await readdir(root)).toEqual([]);
  });

  describe('zip', () => {
    /** A zip extracted from its file (zips need random access). */
    async function extractZip(buf: Buffer, l = limits) {
      const file = join(base, 'upload.zip');
      const { writeFile } = await import('node:fs/promises');
      await writeFile(file, buf);
      try {
        return await extractArchive(file, 'zip', root, l);
      } finally {
        await rm(file, { force: true });
      }
    }

    it('extracts files (deflated or stored), directories, executable bits and inner links', async () => {
      const s = await extractZip(zipOf([
        { name: 'app/', mode: 0o040777 },
        { name: 'app/Dockerfile', body: 'FROM scratch\n', deflate: true },
        { name: 'app/run.sh', body: '#!/bin/sh\n', mode: 0o104755 },
        { name: 'app/link', body: 'Dockerfile', mode: 0o120777 },
      ]));
      expect(s).toEqual({ entries: 4, files: 2, bytes: 13 + 10 });
      expect(await readFile(join(root, 'app/Dockerfile'), 'utf8')).toBe('FROM scratch\n');
      expect((await stat(join(root, 'app/run.sh'))).mode & 0o7777).toBe(0o755);
      expect(await readlink(join(root, 'app/link'))).toBe('Dockerfile');
      expect(sniffUploadFormat(zipOf([{ name: 'a', body: 'x' }]))).toBe('zip');
    });

    it('refuses traversal, absolute paths, escaping links, devices, bombs, lying sizes, too many entries and garbage', async () => {
      expect(await refused(extractZip(zipOf([{ name: '../escaped', body: 'x' }])), 'path-traversal')).toMatch(/"\.\.\/escaped"/);
      expect(await refused(extractZip(zipOf([{ name: `${base}/abs`, body: 'x' }])), 'absolute-path')).toBeTruthy();
      expect(await refused(extractZip(zipOf([{ name: 'out', body: '../../etc', mode: 0o120777 }])), 'link-escape')).toMatch(/outside/);
      expect(await refused(extractZip(zipOf([{ name: 'null', mode: 0o020644 }])), 'special-file')).toMatch(/character-device/);
      const zeros = Buffer.alloc(2 * 1024 * 1024);
      const bomb = zipOf([{ name: 'zeros', body: zeros, deflate: true }]);
      expect(bomb.length).toBeLessThan(20_000);
      expect(await refused(extractZip(bomb), 'too-large-extracted')).toMatch(/larger than 1 MiB/);
      // Declares 10 bytes, inflates to 2 MiB: yauzl stops the stream at the declared size.
      expect(await refused(extractZip(zipOf([{ name: 'liar', body: zeros, deflate: true, declaredSize: 10 }])), 'not-an-archive')).toMatch(/zip/);
      expect(await refused(extractZip(zipOf(Array.from({ length: 11 }, (_, i) => ({ name: `f${i}`, body: '' }))), { maxEntries: 10, maxExtractedBytes: 1024 }), 'too-many-entries')).toBeTruthy();
      expect(await refused(extractZip(Buffer.from('PK\u0003\u0004 not really a zip')), 'not-an-archive')).toMatch(/not a readable zip/);
      expect(await refused(extractZip(zipOf([])), 'empty-archive')).toBeTruthy();
      await nothingOutside();
    });

    it('reads a zip through random access (how the API checks a stored upload) without writing anything', async () => {
      const buf = zipOf([{ name: 'a/b', body: 'xyz', deflate: true }]);
      const source = { size: buf.length, read: (start: number, end: number) => Readable.from([buf.subarray(start, end)]) };
      await expect(walkZip(source, limits)).resolves.toEqual({ entries: 1, files: 1, bytes: 3 });
      const bad = zipOf([{ name: 'x/../../y', body: '1' }]);
      await expect(walkZip({ size: bad.length, read: (s: number, e: number) => Readable.from([bad.subarray(s, e)]) }, limits)).rejects.toMatchObject({ reason: 'path-traversal' });
      expect(await readdir(root)).toEqual([]);
    });
  });
});
