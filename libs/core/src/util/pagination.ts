import { ValidationError } from '../errors/domain-error';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface PageRequest {
  limit: number;
  /** Decoded cursor: the last seen (sortKey, id). */
  after: { k: string; id: string } | null;
}

export function parsePage(limitRaw: unknown, cursorRaw: unknown): PageRequest {
  let limit = 50;
  if (limitRaw !== undefined) {
    const n = Number(limitRaw);
    if (!Number.isInteger(n) || n < 1 || n > 200) throw ValidationError.field('/limit', 'range', 'limit must be an integer between 1 and 200');
    limit = n;
  }
  let after: PageRequest['after'] = null;
  if (cursorRaw !== undefined && cursorRaw !== '') {
    try {
      const v = JSON.parse(Buffer.from(String(cursorRaw), 'base64url').toString('utf8')) as unknown;
      if (!v || typeof v !== 'object' || typeof (v as { k?: unknown }).k !== 'string' || typeof (v as { id?: unknown }).id !== 'string') throw new Error();
      after = v as { k: string; id: string };
    } catch {
      throw ValidationError.field('/cursor', 'invalid', 'cursor is not valid');
    }
  }
  return { limit, after };
}

export function encodeCursor(k: string, id: string): string {
  return Buffer.from(JSON.stringify({ k, id }), 'utf8').toString('base64url');
}
