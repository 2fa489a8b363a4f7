/**
 * Reading an uploaded source archive (tar.gz, tar or zip) safely. One walker enforces the rules of @wharf/contracts
 * (upload-source) on every entry, in order, and refuses the whole archive at the first violation:
 * absolute paths, `..` segments, links whose target leaves the archive, hard links to anything but an earlier file of
 * the archive, entries below a symbolic link, duplicate entries, devices/FIFOs/unknown types, too many entries, too
 * many bytes once extracted (declared sizes, and the decompressed stream itself: a zip bomb stops at the limit), over-long
 * paths and over-long metadata entries (PAX/GNU long names, which the parser would otherwise buffer).
 *
 * The API walks an upload while it receives it (nothing is written to disk: the data of files is drained) and answers
 * 4xx naming the entry and the rule; the worker walks it again and extracts it into a fresh private directory
 * (`extractArchive`), writing files with O_EXCL|O_NOFOLLOW below real directories only, and finally checks that no
 * symbolic link resolves outside that directory.
 */
import { constants, createReadStream } from 'node:fs';
import { copyFile, lstat, mkdir, open, realpath, symlink } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { PassThrough, Readable, Transform, type TransformCallback, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract, type Headers } from 'tar-stream';
import { fromRandomAccessReader, open as openZip, RandomAccessReader, type Entry as ZipEntry, type Options as ZipOptions, type ZipFile } from 'yauzl';
import { checkEntryPath, checkSymlinkTarget, type ArchiveRefusal, type UploadFormat } from '@wharf/contracts';

export interface ArchiveLimits {
  /** Entries of any type (directories included). */
  maxEntries: number;
  /** Bytes of all files once extracted (declared sizes, and the decompressed tar stream with its headers). */
  maxExtractedBytes: number;
  /** Stops the walk between entries (a cancelled deployment, the build deadline). */
  signal?: AbortSignal;
}

/** An archive refused by a rule: `reason` is a stable code, the message names the entry (never its content). */
export class ArchiveRefusedError extends Error {
  constructor(readonly reason: ArchiveRefusal, message: string) {
    super(message);
    this.name = 'ArchiveRefusedError';
  }
}

/** The walk was stopped by its signal (cancel, deadline): not a verdict on the archive. */
export class ArchiveStoppedError extends Error {
  constructor() {
    super('extraction stopped: the deployment was cancelled or the build deadline passed');
    this.name = 'ArchiveStoppedError';
  }
}

/** Metadata entries (PAX headers, GNU long names) larger than this are refused: the parser holds them in memory. */
export const META_ENTRY_MAX_BYTES = 1024 * 1024;

export interface ArchiveSummary {
  entries: number;
  files: number;
  /** Bytes of the files (declared sizes; hard links count again). */
  bytes: number;
}

/** What the walker does with each accepted entry (nothing: the API's inspection). Paths are normalised and relative. */
export interface ArchiveVisitor {
  directory(path: string, mode: number): Promise<void>;
  file(path: string, mode: number, data: Readable): Promise<void>;
  symlink(path: string, target: string): Promise<void>;
  hardlink(path: string, target: string): Promise<void>;
}

const refuse = (reason: ArchiveRefusal, message: string) => new ArchiveRefusedError(reason, message);
/** A path as a message shows it: quoted, control characters escaped, at most 200 characters. */
export const showPath = (p: string): string => JSON.stringify(p.length > 200 ? `${p.slice(0, 200)}…` : p);

/**
 * Walks a tar or tar.gz stream, enforcing the rules; resolves with what it held, rejects with ArchiveRefusedError
 * (anything unreadable is `not-an-archive`). The input is consumed whole or destroyed.
 */
export async function walkArchive(input: Readable, format: UploadFormat, limits: ArchiveLimits, visitor?: ArchiveVisitor): Promise<ArchiveSummary> {
  if (format === 'zip') throw new Error('walkArchive reads tar streams: a zip is read with walkZip (random access)');
  const rules = entryRules(limits, visitor);
  const parser = tarExtract();
  const done = new Promise<void>((resolve, reject) => {
    parser.on('entry', (h: Headers, data: PassThrough, next: (err?: unknown) => void) => {
      rules.handle({ name: h.name, type: h.type ?? 'file', size: h.size ?? 0, linkname: h.linkname ?? null, mode: h.mode ?? 0o644 }, data).then(() => next(), (e: unknown) => {
        data.resume();
        parser.destroy(e as Error);
      });
    });
    parser.on('finish', resolve);
    parser.on('error', reject);
    parser.on('close', () => resolve());
  });
  const budget = new StreamBudget(limits.maxExtractedBytes);
  const guard = new TarMetaGuard();
  const sink = parser as unknown as Writable;
  try {
    await Promise.all([
      format === 'tar.gz' ? pipeline(input, createGunzip(), budget, guard, sink) : pipeline(input, budget, guard, sink),
      done,
    ]);
  } catch (e) {
    if (e instanceof ArchiveRefusedError || e instanceof ArchiveStoppedError) throw e;
    throw refuse('not-an-archive', `is not a readable ${format} archive (${(e as Error).message})`);
  }
  if (rules.summary.entries === 0) throw refuse('empty-archive', 'holds no entries');
  return rules.summary;
}


/** An entry as both readers (tar and zip) present it. `type`: tar-stream's names (file, directory, symlink, link, …). */
interface RawEntry {
  name: string;
  type: string;
  size: number;
  linkname: string | null;
  mode: number;
}

/** The rules over one archive's entries, in order: what was seen so far decides duplicates, links and parents. */
function entryRules(limits: ArchiveLimits, visitor?: ArchiveVisitor): { summary: ArchiveSummary; handle: (h: RawEntry, data: Readable) => Promise<void> } {
  /** What each path is (implicit parent directories included), for duplicates, links and entries below links. */
  const kinds = new Map<string, 'dir' | 'file' | 'symlink'>();
  const fileSizes = new Map<string, number>();
  const summary: ArchiveSummary = { entries: 0, files: 0, bytes: 0 };

  const addBytes = (n: number, path: string) => {
    summary.bytes += n;
    if (summary.bytes > limits.maxExtractedBytes) throw refuse('too-large-extracted', `is larger than ${mib(limits.maxExtractedBytes)} once extracted (at ${showPath(path)})`);
  };
  /** Every parent of `path` must be (or become) a directory: never a file or a link. */
  const claimParents = (path: string) => {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      const k = kinds.get(parent);
      if (k === 'symlink') throw refuse('under-a-link', `entry ${showPath(path)} lies below the symbolic link ${showPath(parent)}`);
      if (k === 'file') throw refuse('invalid-path', `entry ${showPath(path)} lies below the file ${showPath(parent)}`);
      if (!k) kinds.set(parent, 'dir');
    }
  };

  const handle = async (h: RawEntry, data: Readable): Promise<void> => {
    if (limits.signal?.aborted) throw new ArchiveStoppedError();
    summary.entries++;
    if (summary.entries > limits.maxEntries) throw refuse('too-many-entries', `has more than ${limits.maxEntries} entries`);
    const checked = checkEntryPath(h.name);
    if (!checked.ok) throw refuse(checked.reason, `entry ${showPath(h.name)} ${checked.message}`);
    const path = checked.path;
    const type = h.type ?? 'file';
    if (type === 'directory') {
      if (path === '') return void data.resume();
      const k = kinds.get(path);
      if (k && k !== 'dir') throw refuse('duplicate-entry', `entry ${showPath(path)} appears twice`);
      claimParents(path);
      kinds.set(path, 'dir');
      data.resume();
      await visitor?.directory(path, h.mode ?? 0o755);
      return;
    }
    if (path === '') throw refuse('invalid-path', `a ${type} entry names the archive's root`);
    if (kinds.has(path)) throw refuse('duplicate-entry', `entry ${showPath(path)} appears twice`);
    claimParents(path);
    switch (type) {
      case 'file':
      case 'contiguous-file': {
        const size = h.size ?? 0;
        addBytes(size, path);
        kinds.set(path, 'file');
        fileSizes.set(path, size);
        summary.files++;
        if (visitor) await visitor.file(path, h.mode ?? 0o644, data);
        else await drain(data);
        return;
      }
      case 'symlink': {
        const why = checkSymlinkTarget(path, h.linkname ?? '');
        if (why) throw refuse('link-escape', `symbolic link ${showPath(path)} ${why}`);
        kinds.set(path, 'symlink');
        data.resume();
        await visitor?.symlink(path, h.linkname!);
        return;
      }
      case 'link': {
        const target = checkEntryPath(h.linkname ?? '');
        if (!target.ok) throw refuse(target.reason === 'path-traversal' || target.reason === 'absolute-path' ? 'link-escape' : target.reason, `hard link ${showPath(path)} ${target.message.replace(/^path/, 'target')}`);
        if (kinds.get(target.path) !== 'file') throw refuse('hardlink', `hard link ${showPath(path)} does not point at an earlier file of the archive`);
        addBytes(fileSizes.get(target.path) ?? 0, path);
        kinds.set(path, 'file');
        fileSizes.set(path, fileSizes.get(target.path) ?? 0);
        summary.files++;
        data.resume();
        await visitor?.hardlink(path, target.path);
        return;
      }
      default:
        throw refuse('special-file', `entry ${showPath(path)} is a ${type} (only files, directories and links are allowed)`);
    }
  };
  return { summary, handle };
}

/** Random access to a zip held elsewhere (the API reads the stored chunks back): bytes [start, end) as a stream. */
export interface ZipSource {
  size: number;
  read(start: number, end: number): Readable;
}

const ZIP_OPTIONS: ZipOptions = { lazyEntries: true, autoClose: true, decodeStrings: false, validateEntrySizes: true };
/** Unix file types in a zip's external attributes (made by Unix: version made by's high byte 3). */
const S_IFMT = 0o170000;
const UNIX_TYPES: Record<number, string> = { 0o100000: 'file', 0o040000: 'directory', 0o120000: 'symlink', 0o020000: 'character-device', 0o060000: 'block-device', 0o010000: 'fifo', 0o140000: 'socket' };

/**
 * Walks a zip (a file path, or a ZipSource) under the same rules as walkArchive: names decoded (UTF-8 when flagged,
 * else Latin-1) and checked by the rules (yauzl's own name checks are not relied on), Unix file types from the
 * external attributes (links hold their target as data, devices refused), sizes as declared and verified while read
 * (yauzl's validateEntrySizes: a zip bomb cannot inflate past what it declared), the entry count from the central
 * directory before anything is read. Encrypted entries and unknown compression are refused.
 */
export async function walkZip(from: string | ZipSource, limits: ArchiveLimits, visitor?: ArchiveVisitor): Promise<ArchiveSummary> {
  const rules = entryRules(limits, visitor);
  let zip: ZipFile;
  try {
    zip = await new Promise<ZipFile>((resolve, reject) => {
      const cb = (err: Error | null, z?: ZipFile) => (err || !z ? reject(err ?? new Error('no zip')) : resolve(z));
      if (typeof from === 'string') openZip(from, ZIP_OPTIONS, cb);
      else fromRandomAccessReader(new SourceReader(from), from.size, ZIP_OPTIONS, cb);
    });
  } catch (e) {
    throw refuse('not-an-archive', `is not a readable zip archive (${(e as Error).message})`);
  }
  try {
    if (zip.entryCount > limits.maxEntries) throw refuse('too-many-entries', `has more than ${limits.maxEntries} entries`);
    await new Promise<void>((resolve, reject) => {
      const fail = (e: unknown) => {
        zip.close();
        reject(e);
      };
      zip.on('error', fail);
      zip.on('end', () => resolve());
      zip.on('entry', (entry: ZipEntry) => {
        zipEntry(zip, entry).then((raw) => rules.handle(raw.entry, raw.data)).then(() => zip.readEntry(), fail);
      });
      zip.readEntry();
    });
  } catch (e) {
    if (e instanceof ArchiveRefusedError || e instanceof ArchiveStoppedError) throw e;
    throw refuse('not-an-archive', `is not a readable zip archive (${(e as Error).message})`);
  }
  if (rules.summary.entries === 0) throw refuse('empty-archive', 'holds no entries');
  return rules.summary;
}

/** One zip entry as the rules see it, with its data (a link's target is read here: at most the link limit). */
async function zipEntry(zip: ZipFile, e: ZipEntry): Promise<{ entry: RawEntry; data: Readable }> {
  const raw = e.fileNameRaw ?? (e.fileName as unknown as Buffer);
  const name = (e.generalPurposeBitFlag & 0x800 ? raw.toString('utf8') : raw.toString('latin1'));
  const unix = (e.versionMadeBy >> 8) === 3 ? (e.externalFileAttributes >>> 16) & 0xffff : 0;
  let type = name.endsWith('/') ? 'directory' : 'file';
  if (unix & S_IFMT) type = UNIX_TYPES[unix & S_IFMT] ?? 'unknown';
  if (type === 'directory' || e.uncompressedSize === 0 && type !== 'symlink') return { entry: { name, type, size: 0, linkname: null, mode: unix & 0o7777 }, data: Readable.from([]) };
  if (type !== 'file' && type !== 'symlink') return { entry: { name, type, size: 0, linkname: null, mode: 0 }, data: Readable.from([]) };
  if (e.isEncrypted()) throw refuse('special-file', `entry ${showPath(name)} is encrypted`);
  if (!e.canDecodeFileData()) throw refuse('special-file', `entry ${showPath(name)} uses an unsupported compression method (${e.compressionMethod})`);
  const data = await new Promise<Readable>((resolve, reject) => zip.openReadStream(e, (err, s) => (err || !s ? reject(err ?? new Error('no stream')) : resolve(s))));
  if (type === 'symlink') {
    if (e.uncompressedSize > UPLOAD_LINK_BYTES) throw refuse('link-escape', `symbolic link ${showPath(name)} has a target longer than ${UPLOAD_LINK_BYTES} bytes`);
    const parts: Buffer[] = [];
    for await (const c of data) parts.push(c as Buffer);
    return { entry: { name, type, size: 0, linkname: Buffer.concat(parts).toString('utf8'), mode: 0o777 }, data: Readable.from([]) };
  }
  return { entry: { name, type, size: e.uncompressedSize, linkname: null, mode: unix & 0o7777 || 0o644 }, data };
}
const UPLOAD_LINK_BYTES = 1024;

/** yauzl's random access over a ZipSource. */
class SourceReader extends RandomAccessReader {
  constructor(private readonly source: ZipSource) {
    super();
  }
  override _readStreamForRange(start: number, end: number): Readable {
    return this.source.read(start, end);
  }
}

/**
 * Extracts an archive (a stream, or a file path; a zip only from a file) into `root` (an empty private directory), enforcing the same rules: directories 0755, files
 * 0644 or 0755 (the executable bit kept; no setuid, no owners), written with O_EXCL|O_NOFOLLOW; symbolic links created
 * as they are (never followed here); hard links become copies. Afterwards every link must resolve inside `root`.
 */
export async function extractArchive(input: Readable | string, format: UploadFormat, root: string, limits: ArchiveLimits): Promise<ArchiveSummary> {
  const links: string[] = [];
  const at = (p: string) => join(root, ...p.split('/'));
  const visitor: ArchiveVisitor = {
    directory: async (p) => void (await mkdir(at(p), { recursive: true, mode: 0o755 })),
    file: async (p, mode, data) => {
      await ensureParent(root, p);
      const fh = await open(at(p), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode & 0o111 ? 0o755 : 0o644);
      await pipeline(data, fh.createWriteStream());
    },
    symlink: async (p, target) => {
      await ensureParent(root, p);
      await symlink(target, at(p));
      links.push(p);
    },
    hardlink: async (p, target) => {
      await ensureParent(root, p);
      await copyFile(at(target), at(p), constants.COPYFILE_EXCL);
    },
  };
  // A zip needs random access: it is read from its file (the worker writes the archive to one first).
  const summary = format === 'zip'
    ? await walkZip(typeof input === 'string' ? input : fail('a zip is extracted from a file'), limits, visitor)
    : await walkArchive(typeof input === 'string' ? createReadStream(input) : input, format, limits, visitor);
  const realRoot = await realpath(root);
  for (const p of links) {
    const resolved = await realpath(at(p)).catch(() => null);
    if (resolved !== null && resolved !== realRoot && !resolved.startsWith(realRoot + sep)) {
      throw refuse('link-escape', `symbolic link ${showPath(p)} resolves outside the archive`);
    }
  }
  return summary;
}

/** Creates the parent directories of an entry; each must end up a real directory (the walker already refused links). */
async function ensureParent(root: string, p: string): Promise<void> {
  const parts = p.split('/').slice(0, -1);
  if (parts.length === 0) return;
  const dir = join(root, ...parts);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const st = await lstat(dir);
  if (!st.isDirectory()) throw refuse('under-a-link', `entry ${showPath(p)} lies below something that is not a directory`);
}

function fail(message: string): never {
  throw new Error(message);
}

async function drain(data: Readable): Promise<void> {
  for await (const chunk of data) void chunk;
}

const mib = (n: number) => `${Math.round((n / 1024 / 1024) * 10) / 10} MiB`;

/** Stops a decompressed stream at the extraction limit plus room for headers (a gzip bomb never inflates further). */
class StreamBudget extends Transform {
  private seen = 0;
  private readonly max: number;
  constructor(maxExtractedBytes: number) {
    super();
    // Room for headers and padding on top of the files' bytes.
    this.max = maxExtractedBytes + 64 * 1024 * 1024;
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.max) return cb(refuse('too-large-extracted', `is larger than ${mib(this.max)} once decompressed`));
    cb(null, chunk);
  }
}

/**
 * Follows the tar stream's headers (512-byte blocks, each entry's data rounded up to 512) and refuses metadata
 * entries — PAX headers (`x`, `g`) and GNU long names (`L`, `K`) — over META_ENTRY_MAX_BYTES, which tar-stream would
 * otherwise collect in memory whole.
 */
export class TarMetaGuard extends Transform {
  private pos = 0;
  private next = 0;
  private head = Buffer.alloc(0);
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    let off = 0;
    while (off < chunk.length) {
      if (this.pos < this.next) {
        const skip = Math.min(this.next - this.pos, chunk.length - off);
        this.pos += skip;
        off += skip;
        continue;
      }
      const take = chunk.subarray(off, off + (512 - this.head.length));
      this.head = this.head.length ? Buffer.concat([this.head, take]) : Buffer.from(take);
      off += take.length;
      this.pos += take.length;
      if (this.head.length < 512) break;
      const h = this.head;
      this.head = Buffer.alloc(0);
      this.next = this.pos;
      if (h.every((b) => b === 0)) continue;
      const size = tarSize(h.subarray(124, 136));
      if (size === null) return cb(refuse('not-an-archive', 'is not a readable tar archive (malformed header)'));
      const type = String.fromCharCode(h[156]);
      if ('xgLK'.includes(type) && size > META_ENTRY_MAX_BYTES) return cb(refuse('path-too-long', `has a metadata entry (PAX header or long name) of ${size} bytes`));
      this.next = this.pos + Math.ceil(size / 512) * 512;
    }
    cb(null, chunk);
  }
}

/** A tar header's size field: octal ASCII, or base-256 when the first byte has its high bit set; null when malformed. */
function tarSize(field: Buffer): number | null {
  if (field[0] & 0x80) {
    let n = 0;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i];
    return n;
  }
  const s = field.toString('latin1').replace(/[\0 ]+$/, '').replace(/^[\0 ]+/, '');
  if (s === '') return 0;
  return /^[0-7]+$/.test(s) ? parseInt(s, 8) : null;
}
