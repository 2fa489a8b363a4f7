/**
 * Read-only callers over the whole route matrix: organization A's viewer and a read-scoped API key of A's owner call
 * every mutating operation on A's resources and must get 403 (never 2xx, never 5xx), with nothing changed. The
 * viewer's denials are recorded in the audit log as `denied` (when the audit log exists).
 */
import type { Client } from 'pg';
import { startTestApp, TestApp } from '../../support/app';
import {
  bodyFor, buildFixture, call, columnsOf, diffSnapshots, fillPath, Fixture, MUTATING, NO_WORKER, openDb, Operation, outsideReason,
  problemViolation, snapshot, summarizeFixture, unresolvable,
} from '../../support/route-matrix';

/** DELETEs last, so a wrongly allowed delete cannot hide the verdict on the other operations. */
const order = (op: Operation): number => (op.method === 'delete' ? 1 : 0);

describe('read-only callers cannot change anything (every mutating route on organization A)', () => {
  let t: TestApp;
  let fx: Fixture;
  let db: Client;
  let targets: Operation[];
  let auditCols: string[];

  beforeAll(async () => {
    // No worker: the seeded deployment stays queued, so nothing changes behind the snapshots.
    t = await startTestApp(NO_WORKER);
    fx = await buildFixture(t, { readKey: true, deployment: true });
    db = await openDb(t);
    auditCols = await columnsOf(db, 'audit_events');
    // Every mutating route that names a resource (creating an organization names none: anyone may).
    targets = fx.ops
      .filter((o) => MUTATING.includes(o.method) && o.path.startsWith('/api/v1/') && !outsideReason(o) && o.pathParams.length > 0)
      .sort((a, b) => order(a) - order(b));
  }, 60_000);
  afterAll(async () => {
    await db?.end();
    await t?.close();
  });

  /** The denied audit entry of one request: by request id when the log records it, else by actor and time. */
  async function deniedEntry(requestId: string, actorId: string, since: Date): Promise<boolean> {
    const byRequest = auditCols.includes('request_id');
    for (let i = 0; i < 20; i++) {
      const r = byRequest
        ? await db.query(`SELECT 1 FROM audit_events WHERE organization_id = $1 AND outcome = 'denied' AND request_id = $2`, [fx.orgA, requestId])
        : await db.query(`SELECT 1 FROM audit_events WHERE organization_id = $1 AND outcome = 'denied' AND actor_id = $2 AND occurred_at >= $3`, [fx.orgA, actorId, since]);
      if (r.rowCount) return true;
      await new Promise((res) => setTimeout(res, 50));
    }
    return false;
  }

  async function sweep(who: 'viewer' | 'read-key'): Promise<{ failures: string[]; covered: number }> {
    const auth = who === 'viewer' ? fx.viewer.auth : fx.readKey!.auth;
    const failures: string[] = [];
    let covered = 0;
    for (const op of targets) {
      const { url } = fillPath(fx, op);
      const body = bodyFor(fx, op);
      const before = await snapshot(db);
      const since = new Date(Date.now() - 1000);
      const res = await call(t, op.method, url, auth, body);
      covered++;
      const where = `${op.label} as ${who} → ${res.status}`;
      if (res.status !== 403) failures.push(`${where}: expected 403; url ${url}; body ${JSON.stringify(body)}; answer ${res.text.slice(0, 300)}`);
      const pv = problemViolation(res);
      if (pv) failures.push(`${where}: ${pv}`);
      const diff = diffSnapshots(before, await snapshot(db));
      if (diff.length) failures.push(`${where}: database changed:\n    ${diff.slice(0, 10).join('\n    ')}`);
      if (who === 'viewer' && auditCols.length && res.status === 403) {
        const requestId = res.headers['x-request-id'] ?? res.body?.requestId;
        if (!(await deniedEntry(requestId, fx.viewer.userId, since))) failures.push(`${where}: no 'denied' audit entry for organization A (request ${requestId})`);
      }
    }
    return { failures, covered };
  }

  it('reaches every mutating route that names a resource (an unresolvable one fails instead of being skipped)', () => {
    expect(unresolvable(fx, targets)).toEqual([]);
    expect(targets.filter((o) => o.path.startsWith('/api/v1/deployments/')).map((o) => o.label)).toEqual(expect.arrayContaining([
      'POST /api/v1/deployments/{deploymentId}/cancel',
      'POST /api/v1/deployments/{deploymentId}/rollback',
    ]));
  });

  it("the viewer gets 403 on every mutating route, nothing changes, and each denial is audited", async () => {
    const { failures, covered } = await sweep('viewer');
    console.log(`viewer: ${covered} mutating operations covered; audit log ${auditCols.length ? 'checked' : 'absent (denied-entry assertion skipped)'}\n${summarizeFixture(fx)}`);
    expect(covered).toBeGreaterThanOrEqual(10);
    expect(failures).toEqual([]);
  });

  it("a read-scoped API key of the owner gets 403 on every mutating route and nothing changes", async () => {
    const { failures, covered } = await sweep('read-key');
    console.log(`read-scoped key: ${covered} mutating operations covered`);
    expect(failures).toEqual([]);
  });
});
