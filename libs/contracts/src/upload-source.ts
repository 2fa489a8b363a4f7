/**
 * Upload sources: an application built from an uploaded source archive (tar.gz, tar or zip) instead of a Git repository.
 * Pure (no Node APIs): the API checks the archive's entries with these rules while it receives it, the worker checks
 * them again while it extracts, and the portal shows the same names. Entry paths are refused, never rewritten: an
 * archive with one bad entry is refused whole, with the entry and the rule in the message.
 */

export const UPLOAD_FORMATS = ['tar.gz', 'tar', 'zip'] as const;
export type UploadFormat = (typeof UPLOAD_FORMATS)[number];

/** The media types of the upload route, and the format each one announces. */
export const UPLOAD_CONTENT_TYPES: Readonly<Record<string, UploadFormat>> = {
  'application/gzip': 'tar.gz',
  'application/x-gzip': 'tar.gz',
  'application/x-tar': 'tar',
  'application/zip': 'zip',
  /** What browsers on Windows send for a .zip. */
  'application/x-zip-compressed': 'zip',
};

/** Per-archive limits besides the upload's own size (WHARF_UPLOAD_MAX_MB). */
export const UPLOAD_LIMITS = {
  /** Bytes of one entry's path (after PAX/GNU long names). */
  pathBytes: 1024,
  /** Bytes of one path segment (most file systems allow 255). */
  segmentBytes: 255,
  /** Bytes of a link's target. */
  linkBytes: 1024,
  /** Directory depth. */
  depth: 64,
  fileName: 255,
} as const;

/** Why an archive is refused (stable codes; the API's problem names one, the deployment log too). */
export type ArchiveRefusal =
  | 'not-an-archive' | 'absolute-path' | 'path-traversal' | 'path-too-long' | 'invalid-path' | 'link-escape' | 'hardlink'
  | 'special-file' | 'duplicate-entry' | 'too-many-entries' | 'too-large-extracted' | 'empty-archive' | 'under-a-link';

/** The format an archive's first bytes show (gzip magic, a zip local header or empty zip, a POSIX/GNU tar header), or null. */
export function sniffUploadFormat(head: Uint8Array): UploadFormat | null {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'tar.gz';
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6))) return 'zip';
  if (head.length >= 263) {
    const magic = String.fromCharCode(...head.subarray(257, 262));
    if (magic === 'ustar') return 'tar';
  }
  return null;
}

/**
 * An entry path as stored (POSIX separators), checked and normalised: `./a//b/` → `a/b`; `.` or empty → '' (the root,
 * only a directory may name it). Refused: absolute paths, `..` segments anywhere, backslashes, NUL and control
 * characters, over-long paths or segments, too deep. Returns the normalised path or the refusal.
 */
export function checkEntryPath(raw: string): { ok: true; path: string } | { ok: false; reason: ArchiveRefusal; message: string } {
  if (typeof raw !== 'string') return { ok: false, reason: 'invalid-path', message: 'has no path' };
  if (utf8Length(raw) > UPLOAD_LIMITS.pathBytes) return { ok: false, reason: 'path-too-long', message: `path is longer than ${UPLOAD_LIMITS.pathBytes} bytes` };
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) return { ok: false, reason: 'absolute-path', message: 'is an absolute path' };
  if (/[\x00-\x1f\x7f]/.test(raw)) return { ok: false, reason: 'invalid-path', message: 'path contains control characters' };
  if (raw.includes('\\')) return { ok: false, reason: 'invalid-path', message: 'path contains a backslash' };
  const segments = raw.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.some((s) => s === '..')) return { ok: false, reason: 'path-traversal', message: 'path contains a .. segment' };
  if (segments.some((s) => utf8Length(s) > UPLOAD_LIMITS.segmentBytes)) return { ok: false, reason: 'path-too-long', message: `a path segment is longer than ${UPLOAD_LIMITS.segmentBytes} bytes` };
  if (segments.length > UPLOAD_LIMITS.depth) return { ok: false, reason: 'path-too-long', message: `path is deeper than ${UPLOAD_LIMITS.depth} directories` };
  return { ok: true, path: segments.join('/') };
}

/**
 * A symbolic link's target, from the link's own directory: relative only, and it must stay inside the archive's root
 * when resolved lexically (`a/b -> ../c` is `c`; `a -> ../x` escapes). Returns null when allowed, else the message.
 */
export function checkSymlinkTarget(linkPath: string, target: string): string | null {
  if (typeof target !== 'string' || target === '') return 'has an empty link target';
  if (utf8Length(target) > UPLOAD_LIMITS.linkBytes) return `link target is longer than ${UPLOAD_LIMITS.linkBytes} bytes`;
  if (/[\x00-\x1f\x7f]/.test(target) || target.includes('\\')) return 'link target contains control characters or a backslash';
  if (target.startsWith('/')) return 'links to an absolute path (outside the archive)';
  const parts = linkPath.split('/').slice(0, -1);
  for (const seg of target.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (parts.length === 0) return 'links outside the archive';
      parts.pop();
    } else parts.push(seg);
  }
  return null;
}

/** An upload's file name as recorded (a base name; characters outside a safe set become `_`), default `source.tar.gz`. */
export function uploadFileName(raw: unknown, format: UploadFormat): string {
  const fallback = format === 'tar' ? 'source.tar' : format === 'zip' ? 'source.zip' : 'source.tar.gz';
  if (typeof raw !== 'string') return fallback;
  const base = raw.split(/[\\/]/).pop() ?? '';
  const clean = base.replace(/[^A-Za-z0-9._+@=,~ -]/g, '_').replace(/^[.\s-]+/, '').slice(0, UPLOAD_LIMITS.fileName).trim();
  return clean === '' ? fallback : clean;
}

function utf8Length(s: string): number {
  let n = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  }
  return n;
}
