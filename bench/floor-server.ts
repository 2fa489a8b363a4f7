/**
 * The floor for the API benchmark: the least a server can do to answer `GET /api/v1/organizations/{id}/projects`
 * with the same security and the same data as Wharf. A bare `node:http` server with a `pg` pool (10 connections) that
 * checks the same HS256 access token (same derived key, issuer and audience), runs Wharf's own authentication query
 * (user, live session, grants) and the same page query on the projects table, and answers `{ items, nextCursor }`.
 * No framework, no validation pipeline, no logging: Wharf's overhead over this is what the benchmark reports.
 *
 * Run by bench/api.bench.ts as its own process: `node scripts/run-ts.js bench/floor-server.ts` with PORT,
 * DATABASE_URL and WHARF_SECRET_KEY set. Prints `listening` on stdout when ready.
 */
import { createServer } from 'node:http';
import { jwtVerify } from 'jose';
import { Pool } from 'pg';
import { parseSecretKey } from '../libs/core/src/config/config';
import { deriveKey } from '../libs/core/src/crypto/hash';

const key = deriveKey(parseSecretKey('WHARF_SECRET_KEY', process.env.WHARF_SECRET_KEY ?? ''), 'access-jwt');
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const PATH_RE = /^\/api\/v1\/organizations\/([0-9a-f-]{36})\/projects(?:\?.*)?$/;

const AUTH_SQL = `SELECT u.id, u.email, u.is_instance_admin, u.totp_enabled,
         EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.family_id = $2 AND r.user_id = u.id AND r.revoked_at IS NULL AND r.expires_at > now()) AS active,
         COALESCE((SELECT json_agg(g) FROM (
           SELECT m.organization_id, m.role, m.custom_role_id, m.project_ids, m.environment_ids, r.permissions AS custom_permissions, o.require_two_factor,
                  (SELECT array_agg(DISTINCT e.project_id) FROM environments e
                    WHERE m.environment_ids IS NOT NULL AND e.id = ANY(m.environment_ids) AND e.organization_id = m.organization_id) AS environment_project_ids
             FROM memberships m JOIN organizations o ON o.id = m.organization_id LEFT JOIN roles r ON r.id = m.custom_role_id
            WHERE m.user_id = u.id) g), '[]'::json) AS grants
    FROM users u WHERE u.id = $1`;
const LIST_SQL = `SELECT * FROM projects x WHERE x.organization_id = $1 ORDER BY x.name ASC, x.id ASC LIMIT 51`;

function send(res: import('node:http').ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const server = createServer((req, res) => {
  void (async () => {
    const m = PATH_RE.exec(req.url ?? '');
    if (req.method !== 'GET' || !m) return send(res, 404, { status: 404 });
    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith('Bearer ')) return send(res, 401, { status: 401 });
    let sub: string;
    let sid: string;
    try {
      const { payload } = await jwtVerify(auth.slice(7), key, { issuer: 'wharf', audience: 'wharf-api', algorithms: ['HS256'] });
      sub = String(payload.sub);
      sid = String(payload.sid);
    } catch {
      return send(res, 401, { status: 401 });
    }
    const { rows: [user] } = await pool.query(AUTH_SQL, [sub, sid]);
    if (!user?.active) return send(res, 401, { status: 401 });
    const orgId = m[1];
    if (!(user.grants as Array<{ organization_id: string }>).some((g) => g.organization_id === orgId)) return send(res, 404, { status: 404 });
    const { rows } = await pool.query(LIST_SQL, [orgId]);
    const items = rows.slice(0, 50).map((r) => ({
      id: r.id, organizationId: r.organization_id, name: r.name, slug: r.slug, description: r.description,
      version: r.version, createdAt: r.created_at, updatedAt: r.updated_at,
    }));
    send(res, 200, { items, nextCursor: rows.length > 50 ? Buffer.from(JSON.stringify([rows[49].name, rows[49].id])).toString('base64url') : null });
  })().catch((e: Error) => send(res, 500, { status: 500, detail: e.message }));
});

server.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => {
  server.close();
  void pool.end().finally(() => process.exit(0));
});
