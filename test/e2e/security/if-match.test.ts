/**
 * Optimistic concurrency over the whole route matrix: every PATCH in the OpenAPI document answers 412 to a stale
 * If-Match (the version before the caller's last change) and changes nothing, while the current version is accepted.
 * A PATCH added anywhere is covered as soon as it exists; one the fixture cannot reach fails the test.
 */
import type { Client } from 'pg';
import { startTestApp, TestApp } from '../../support/app';
import {
  bodyFor, buildFixture, call, diffSnapshots, fillPath, Fixture, NO_WORKER, openDb, Operation, problemViolation, resolve, snapshot, unique,
  unresolvable,
} from '../../support/route-matrix';

describe('every PATCH answers 412 to a stale If-Match', () => {
  let t: TestApp;
  let fx: Fixture;
  let db: Client;
  let patches: Operation[];

  beforeAll(async () => {
    t = await startTestApp(NO_WORKER);
    fx = await buildFixture(t, { deployment: true });
    db = await openDb(t);
    patches = fx.ops.filter((o) => o.method === 'patch');
  }, 60_000);
  afterAll(async () => {
    await db?.end();
    await t?.close();
  });

  /** A body that really changes something: the schema's required fields, else a new name (or description). */
  function changeBody(op: Operation): Record<string, unknown> {
    const body = bodyFor(fx, op) ?? {};
    if (Object.keys(body).length) return body;
    const props = resolve(fx.doc, op.body ?? {}).properties ?? {};
    for (const name of ['name', 'description']) if (props[name]) return { [name]: `renamed-${unique()}` };
    return body;
  }

  /**
   * The version when the PATCH answer does not carry it (a member's PATCH answers `{ ok: true }`): the item of the
   * parent collection's list whose id field equals the last path parameter.
   */
  async function versionFromList(op: Operation, url: string): Promise<unknown> {
    const parts = url.split('/');
    const id = decodeURIComponent(parts.pop()!);
    const list = await call(t, 'get', parts.join('/'), fx.owner.auth);
    const items: Array<Record<string, unknown>> = Array.isArray(list.body) ? list.body : (list.body?.items ?? []);
    return items.find((x) => Object.values(x).includes(id))?.version;
  }

  it('every PATCH in the document is reachable on organization A', () => {
    expect(patches.length).toBeGreaterThanOrEqual(8);
    expect(unresolvable(fx, patches)).toEqual([]);
  });

  it('a stale If-Match is 412 problem+json and changes nothing; the current version is accepted', async () => {
    const failures: string[] = [];
    for (const op of patches) {
      const { url } = fillPath(fx, op);
      // The caller's own change moves the version on; the version before it is now stale.
      const first = await call(t, 'patch', url, fx.owner.auth, changeBody(op));
      if (first.status !== 200) {
        failures.push(`${op.label} → ${first.status} without If-Match: ${first.text.slice(0, 200)}`);
        continue;
      }
      const version = Number(first.body?.version ?? (await versionFromList(op, url)));
      if (!Number.isInteger(version) || version < 1) {
        failures.push(`${op.label}: the answer carries no version to send back in If-Match (${JSON.stringify(first.body).slice(0, 200)})`);
        continue;
      }
      const before = await snapshot(db);
      const stale = await call(t, 'patch', url, fx.owner.auth, changeBody(op), { 'If-Match': `"${version - 1}"` });
      const diff = diffSnapshots(before, await snapshot(db));
      if (stale.status !== 412) failures.push(`${op.label} with If-Match "${version - 1}" (current ${version}) → ${stale.status}, expected 412: ${stale.text.slice(0, 200)}`);
      const pv = problemViolation(stale);
      if (pv) failures.push(`${op.label} stale: ${pv}`);
      if (diff.length) failures.push(`${op.label} stale: database changed:\n    ${diff.slice(0, 5).join('\n    ')}`);
      const current = await call(t, 'patch', url, fx.owner.auth, changeBody(op), { 'If-Match': `"${version}"` });
      if (current.status !== 200) failures.push(`${op.label} with the current If-Match "${version}" → ${current.status}: ${current.text.slice(0, 200)}`);
    }
    console.log(`if-match: ${patches.length} PATCH operations checked: ${patches.map((o) => o.path).join(', ')}`);
    expect(failures).toEqual([]);
  });
});
