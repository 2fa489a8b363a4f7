import { EntityManager, ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import type { EventEnvelope } from '@wharf/contracts';
import { ConflictError, encodeCursor, EventInput, StageExtra, Page, PageRequest, SLUG_RE, slugify, ValidationError } from '@wharf/core';

/** The `stage` function TransactionRunner.run hands to its callback. */
export type Stage = (event: EventInput, extra?: StageExtra) => Promise<EventEnvelope>;

export { checkVersion } from '@wharf/core';

/** PostgreSQL unique_violation on the given index. */
export function isUniqueViolation(e: unknown, index?: string): boolean {
  const err = e as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const code = err.driverError?.code ?? err.code;
  const constraint = err.driverError?.constraint ?? err.constraint;
  return code === '23505' && (!index || constraint === index);
}

export function validateName(name: unknown, pointer = '/name'): string {
  if (typeof name !== 'string' || name.trim().length === 0 || name.length > 100) throw ValidationError.field(pointer, 'length', 'name must be 1–100 characters and not blank');
  return name;
}

/**
 * The slug for a new child of `parentId`: the requested one (409 when taken) or one derived from the name and
 * de-duplicated with a numeric suffix. The unique index is the final arbiter under concurrency.
 */
export async function chooseSlug(m: EntityManager, table: 'projects' | 'environments', parentColumn: 'organization_id' | 'project_id', parentId: string, name: string, requested?: string): Promise<string> {
  if (requested !== undefined) {
    if (!SLUG_RE.test(requested)) throw ValidationError.field('/slug', 'slug', 'slug must be lowercase letters, digits and dashes (1–63, no leading or trailing dash)');
    const taken = await m.query(`SELECT 1 FROM ${table} WHERE ${parentColumn} = $1 AND slug = $2`, [parentId, requested]);
    if (taken.length) throw new ConflictError(`The slug "${requested}" is already used here`, 'slug-taken');
    return requested;
  }
  const base = slugify(name);
  const rows: Array<{ slug: string }> = await m.query(`SELECT slug FROM ${table} WHERE ${parentColumn} = $1 AND (slug = $2 OR slug LIKE $3)`, [parentId, base, `${base}-%`]);
  const used = new Set(rows.map((r) => r.slug));
  if (!used.has(base)) return base;
  for (let i = 2; ; i++) {
    const candidate = `${base}-${i}`;
    if (!used.has(candidate)) return candidate;
  }
}

/** Keyset pagination over (sortColumn, id); the cursor carries the last row's sort key and id. */
export async function pageOf<T extends ObjectLiteral & { id: string }>(
  qb: SelectQueryBuilder<T>,
  page: PageRequest,
  sortColumn: string,
  sortKey: (row: T) => string,
): Promise<Page<T>> {
  const a = qb.alias;
  if (page.after) qb.andWhere(`(${a}.${sortColumn}, ${a}.id) > (:pk, :pid)`, { pk: page.after.k, pid: page.after.id });
  const rows = await qb.orderBy(`${a}.${sortColumn}`, 'ASC').addOrderBy(`${a}.id`, 'ASC').limit(page.limit + 1).getMany();
  const more = rows.length > page.limit;
  const items = more ? rows.slice(0, page.limit) : rows;
  const last = items[items.length - 1];
  return { items, nextCursor: more && last ? encodeCursor(sortKey(last), last.id) : null };
}
