import { types } from 'pg';

/** PostgreSQL's type OID of `timestamp with time zone`. */
const TIMESTAMPTZ_OID = 1184;

/** The form PostgreSQL writes a timestamptz in (DateStyle ISO), for years 1000–9999: `2026-12-05 13:58:48.123456+00`. */
const ISO_TIMESTAMPTZ = /^[1-9]\d{3}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?[+-]\d{2}(?::\d{2})?$/;

const defaultTimestamptz = types.getTypeParser(TIMESTAMPTZ_OID, 'text') as (value: string) => Date | number | null;

const digits = (s: string, from: number, count: number): number => {
  let n = 0;
  for (let i = from; i < from + count; i++) n = n * 10 + (s.charCodeAt(i) - 48);
  return n;
};

/**
 * A timestamptz as node-postgres' own parser (postgres-date) returns it, without its regular-expression captures: every
 * row of a list carries timestamps, and that parser was a measurable share of a list request's CPU and garbage. The
 * usual form is read field by field with the same arithmetic (fraction → `1000 * parseFloat`, then `Date.UTC`, then the
 * offset); anything else (BC, infinity, years outside 1000–9999, offsets with seconds) goes to postgres-date.
 */
export function parseTimestamptz(value: string): Date | number | null {
  if (!ISO_TIMESTAMPTZ.test(value)) return defaultTimestamptz(value);
  let i = 19;
  let ms = 0;
  if (value.charCodeAt(i) === 46 /* . */) {
    let end = i + 1;
    while (end < value.length && value.charCodeAt(end) >= 48 && value.charCodeAt(end) <= 57) end++;
    ms = 1000 * parseFloat(value.slice(i, end));
    i = end;
  }
  const sign = value.charCodeAt(i) === 45 /* - */ ? -1 : 1;
  const offsetMinutes = digits(value, i + 1, 2) * 60 + (value.length > i + 3 ? digits(value, i + 4, 2) : 0);
  const utc = Date.UTC(digits(value, 0, 4), digits(value, 5, 2) - 1, digits(value, 8, 2), digits(value, 11, 2), digits(value, 14, 2), digits(value, 17, 2), ms);
  return new Date(utc - sign * offsetMinutes * 60_000);
}

/** node-postgres' type parsers with the faster timestamptz parser; given to Wharf's connection pools as `types`. */
export const PG_TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): unknown {
    if (oid === TIMESTAMPTZ_OID && format !== 'binary') return parseTimestamptz;
    return format === 'binary' ? types.getTypeParser(oid, 'binary') : types.getTypeParser(oid, 'text');
  },
};
