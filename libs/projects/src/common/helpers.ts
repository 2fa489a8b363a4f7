import { EntityManager, EntityMetadata, ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import { DriverUtils } from 'typeorm/driver/DriverUtils';
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
  const rows = await manyOf(qb.orderBy(`${a}.${sortColumn}`, 'ASC').addOrderBy(`${a}.id`, 'ASC').limit(page.limit + 1));
  const more = rows.length > page.limit;
  const items = more ? rows.slice(0, page.limit) : rows;
  const last = items[items.length - 1];
  return { items, nextCursor: more && last ? encodeCursor(sortKey(last), last.id) : null };
}

/**
 * Column types whose values node-postgres already returns in the entity's shape (TypeORM's hydration leaves them as
 * they are): for these, a raw row maps onto the entity property by property.
 */
const PLAIN_TYPES = new Set<unknown>(['uuid', 'text', 'varchar', 'character varying', 'int', 'integer', 'int4', 'smallint', 'boolean', 'jsonb', 'json', 'timestamp with time zone', 'timestamptz', String, Number, Boolean]);

/** Per entity: the raw-row key and the column of every property, or null when the entity needs TypeORM's hydration. */
const plainColumns = new WeakMap<EntityMetadata, Map<string, Array<[string, ColumnMetadata]> | null>>();

function plainColumnsOf<T extends ObjectLiteral>(qb: SelectQueryBuilder<T>): Array<[string, ColumnMetadata]> | null {
  const e = qb.expressionMap;
  const main = e.mainAlias;
  // Only a plain select of one whole entity: no joins, no partial or extra selections, no relation ids or counts.
  if (!main?.hasMetadata || e.joinAttributes.length || e.relationIdAttributes.length || e.relationCountAttributes.length || e.selects.length !== 1 || e.selects[0].selection !== main.name) return null;
  const metadata = main.metadata;
  let byAlias = plainColumns.get(metadata);
  if (!byAlias) plainColumns.set(metadata, (byAlias = new Map()));
  let columns = byAlias.get(main.name);
  if (columns === undefined) {
    const plain = !metadata.childEntityMetadatas.length && !metadata.discriminatorColumn && !metadata.relations.length
      && metadata.columns.every((c) => !c.isVirtual && !c.transformer && !c.embeddedMetadata && !c.relationMetadata && PLAIN_TYPES.has(c.type));
    columns = plain ? metadata.columns.map((c): [string, ColumnMetadata] => [DriverUtils.buildAlias(e.mainAlias!.metadata.connection.driver, undefined, main.name, c.databaseName), c]) : null;
    byAlias.set(main.name, columns);
  }
  return columns;
}

/**
 * `qb.getMany()` for a plain select of one entity without TypeORM's generic hydration (a fifth of the CPU time of a list
 * request): the raw rows map column by column onto new entities. Anything else goes through `getMany()`.
 */
export async function manyOf<T extends ObjectLiteral>(qb: SelectQueryBuilder<T>): Promise<T[]> {
  const columns = plainColumnsOf(qb);
  if (!columns) return qb.getMany();
  const metadata = qb.expressionMap.mainAlias!.metadata;
  const raw: Array<Record<string, unknown>> = await qb.getRawMany();
  return raw.map((r) => {
    const entity = metadata.create() as T;
    for (const [key, column] of columns) {
      const value = r[key];
      if (value !== undefined) (entity as Record<string, unknown>)[column.propertyName] = value;
    }
    return entity;
  });
}
