import { types } from 'pg';
import { parseTimestamptz, PG_TYPES } from './pg-types';

const postgresDate = types.getTypeParser(1184, 'text') as (value: string) => Date | number | null;

describe('parseTimestamptz', () => {
  const same = (value: string) => {
    const ours = parseTimestamptz(value);
    const theirs = postgresDate(value);
    expect(ours instanceof Date ? ours.getTime() : ours).toEqual(theirs instanceof Date ? theirs.getTime() : theirs);
    expect(typeof ours).toBe(typeof theirs);
  };

  it('reads what PostgreSQL writes exactly as node-postgres does', () => {
    for (const value of [
      '2026-12-05 13:58:48+00', '2026-12-05 13:58:48.1+00', '2026-12-05 13:58:48.123+00', '2026-12-05 13:58:48.123456+00',
      '2026-12-05 13:58:48.285+00', '2026-12-05 13:58:48.999999+00', '2026-12-05 13:58:48.000001+00', '1999-12-31 23:59:59.9999+00',
      '2026-03-29 02:30:00+02', '2026-12-05 13:58:48.5-05', '2026-12-05 13:58:48+05:30', '2026-12-05 13:58:48.75-09:30', '2024-02-29 00:00:00+14',
      '1000-01-01 00:00:00+00', '9999-12-31 23:59:59.999999+00',
    ]) same(value);
  });

  it('hands every other form to node-postgres', () => {
    for (const value of ['infinity', '-infinity', '0099-01-01 00:00:00+00', '0001-01-01 00:00:00+00 BC', '12345-01-01 00:00:00+00', '2026-12-05 13:58:48+05:30:15', '2026-12-05 13:58:48Z', '2026-12-05']) same(value);
  });

  it('matches node-postgres on many random instants and offsets', () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pad = (n: number, w = 2) => String(n).padStart(w, '0');
    for (let k = 0; k < 5000; k++) {
      const d = new Date(Date.UTC(1000 + Math.floor(rnd() * 8999), 0, 1) + Math.floor(rnd() * 365 * 86_400_000));
      const frac = rnd() < 0.2 ? '' : `.${String(Math.floor(rnd() * 1e6)).padStart(6, '0').slice(0, 1 + Math.floor(rnd() * 6))}`;
      const off = Math.floor(rnd() * 29) - 14;
      const mins = rnd() < 0.8 ? '' : `:${pad([15, 30, 45][Math.floor(rnd() * 3)])}`;
      same(`${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${frac}${off < 0 ? '-' : '+'}${pad(Math.abs(off))}${mins}`);
    }
  });

  it('is what the pools use for timestamptz, and node-postgres parsers for the rest', () => {
    expect(PG_TYPES.getTypeParser(1184)).toBe(parseTimestamptz);
    expect(PG_TYPES.getTypeParser(1184, 'text')).toBe(parseTimestamptz);
    expect(PG_TYPES.getTypeParser(23, 'text')).toBe(types.getTypeParser(23, 'text'));
    expect(PG_TYPES.getTypeParser(1114, 'text')).toBe(types.getTypeParser(1114, 'text'));
  });
});
