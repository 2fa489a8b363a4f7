/**
 * Upload sources on the real Swarm: an application built from an uploaded tar.gz instead of a Git repository.
 * - upload and deploy in one call: the archive (a Dockerfile FROM the test busybox image and a page) is stored, its
 *   sha256 recorded on the upload and the deployment, built, and the service answers with the archive's page;
 * - a second upload deploys the new content, a zip too; a rollback returns to the first build (the image, not the archive);
 * - hostile archives (.. traversal, an absolute path, a symbolic link out of the archive, a device, a zip bomb, oversized, garbage,
 *   the wrong content type) are refused with a 4xx naming the reason, store nothing and write nothing outside;
 *   an archive whose link escapes only physically (a link through a link) passes the API's entry checks and fails the
 *   build in the worker, naming the reason;
 * - another organization gets 404, a viewer 403, a Git application 409; If-Match and Idempotency-Key as elsewhere;
 * - retention (sources.purge-uploads) keeps what the source and the newest deployments name.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { Client } from 'pg';
import request from 'supertest';
import type { TestApp } from '../../support/app';
import { addMember, createOrganization, type Session } from '../../support/api';
import { BUSYBOX_IMAGE } from '../../support/docker/busybox-image';
import { freePort, httpGetUntil, SwarmTestRun } from '../../support/docker/swarm-test-run';
import { httpdSpec, logText, startSwarmSuite, stopSwarmSuite, SWARM_SUITE_HOOK_TIMEOUT_MS, waitForDeployment } from '../../support/deploy';
import { runJob } from '../../support/jobs';
import { type TarEntry as Entry, tarOf } from '../../support/tar-writer';
import { zipOf } from '../../support/zip-writer';

jest.setTimeout(240_000);


/** A site: a Dockerfile that copies the page into the test busybox image and serves it on 8080. */
const site = (page: string, extra: Entry[] = []) => tarOf([
  { name: 'site/', type: 'directory' },
  { name: 'site/Dockerfile', body: `FROM ${BUSYBOX_IMAGE}\nCOPY www /www\nCMD ["httpd", "-f", "-p", "8080", "-h", "/www"]\n` },
  { name: 'site/www/index.html', body: page },
  ...extra,
]);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A spec that runs the image's own command (the Dockerfile's CMD). */
function imageSpec(port: number | null): Record<string, unknown> {
  const spec = httpdSpec(port);
  delete spec.command;
  return spec;
}

describe('upload sources: build from an uploaded archive on the real Swarm', () => {
  let t: TestApp;
  let owner: Session & { organizationId: string };
  let run: SwarmTestRun;
  let env: { projectId: string; environmentId: string };
  let db: Client;
  const lock = new SwarmTestRun();
  const token = randomBytes(6).toString('hex');

  beforeAll(async () => {
    ({ t, run, owner, env } = await startSwarmSuite(lock, { WHARF_UPLOAD_MAX_MB: '1', WHARF_UPLOAD_MAX_EXTRACTED_MB: '2', WHARF_UPLOAD_MAX_ENTRIES: '500', WHARF_UPLOADS_KEEP: '1' }));
    db = new Client({ connectionString: t.databaseUrl });
    await db.connect();
  }, SWARM_SUITE_HOOK_TIMEOUT_MS);

  afterAll(async () => {
    await db?.end();
    try {
      const images = await run?.docker.listImages({ filters: { label: [`wharf.install=${run.install}`] } });
      for (const i of images ?? []) await run.docker.getImage(i.Id).remove({ force: true }).catch(() => undefined);
    } finally {
      await stopSwarmSuite(lock, { t, run });
    }
  }, SWARM_SUITE_HOOK_TIMEOUT_MS);

  const api = () => request(t.server);
  async function app(name: string, port: number | null): Promise<string> {
    return (await api().post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth).send({ name, spec: imageSpec(port) }).expect(201)).body.id;
  }
  const upload = (appId: string, body: Buffer, type = 'application/gzip', query = '', auth = owner.auth, headers: Record<string, string> = {}) =>
    api().post(`/api/v1/applications/${appId}/source/upload${query}`).set(auth).set(headers).set('Content-Type', type).send(body);
  const uploads = async (appId: string) => (await db.query(`SELECT status, count(*)::int AS n FROM source_uploads WHERE application_id = $1 GROUP BY status ORDER BY status`, [appId])).rows;

  let appId = '';
  let port = 0;
  let first: { deploymentId: string; sha: string; uploadId: string } | null = null;

  it('uploads a tar.gz and deploys it in one call: stored with its sha256, built, served', async () => {
    port = await freePort();
    appId = await app('uploaded-site', port);
    // Build path and build type apply as for Git sources; the archive comes next.
    const src = await api().put(`/api/v1/applications/${appId}/source`).set(owner.auth).send({ kind: 'upload', buildPath: 'site', build: { kind: 'dockerfile' } }).expect(200);
    expect(src.body).toMatchObject({ kind: 'upload', buildPath: 'site', repository: '', upload: null, build: { kind: 'dockerfile' } });
    const archive = gzipSync(await site(`uploaded page v1 ${token}`));
    const res = await upload(appId, archive, 'application/gzip', '?deploy=true&filename=../../site-v1.tar.gz', owner.auth, { 'If-Match': `"${src.body.version}"` });
    expect(res.status).toBe(201);
    expect(res.body.upload).toMatchObject({ fileName: 'site-v1.tar.gz', format: 'tar.gz', size: archive.length, sha256: sha256(archive), entries: 3, uploadedBy: { name: expect.any(String) } });
    expect(res.body.source).toMatchObject({ kind: 'upload', repository: '', buildPath: 'site', version: src.body.version + 1, upload: { id: res.body.upload.id } });
    expect(res.body.deployment).toMatchObject({ status: 'queued', source: { kind: 'upload', upload: { id: res.body.upload.id, sha256: sha256(archive) } } });
    const d = await waitForDeployment(t, owner, res.body.deployment.id, 180_000);
    expect({ status: d.status, error: d.error }).toEqual({ status: 'succeeded', error: null });
    expect(d.source).toMatchObject({ kind: 'upload', repository: '', commit: null, upload: { id: res.body.upload.id, fileName: 'site-v1.tar.gz', size: archive.length, sha256: sha256(archive) } });
    const log = await logText(t, owner, String(d.id));
    expect(log).toContain(`Extracting the uploaded archive site-v1.tar.gz (${archive.length} bytes, sha256 ${sha256(archive)})`);
    expect(log).toMatch(/Extracted 2 files \(3 entries, \d+ bytes\)/);
    expect((await httpGetUntil(port, (r) => r.body === `uploaded page v1 ${token}`, 60_000)).body).toBe(`uploaded page v1 ${token}`);
    const image = await run.docker.getImage(String(d.image)).inspect();
    expect(image.Config.Labels).toMatchObject({ 'wharf.upload': res.body.upload.id, 'wharf.application': appId });
    first = { deploymentId: String(d.id), sha: sha256(archive), uploadId: res.body.upload.id };
    // The audit entry names the archive, never its content.
    const audit = await db.query(`SELECT changes::text AS c FROM audit_events WHERE action = 'application.source-uploaded' AND subject_id = $1`, [appId]);
    expect(audit.rows).toHaveLength(1);
    expect(audit.rows[0].c).toContain(sha256(archive));
    expect(audit.rows[0].c).not.toContain(token);
  });

  it('a second upload deploys the new content; a rollback returns to the first build', async () => {
    const archive = gzipSync(await site(`uploaded page v2 ${token}`));
    const res = await upload(appId, archive, 'application/gzip', '?deploy=true&filename=site-v2.tgz').expect(201);
    expect(res.body.source.upload).toMatchObject({ fileName: 'site-v2.tgz', sha256: sha256(archive) });
    const d = await waitForDeployment(t, owner, res.body.deployment.id, 180_000);
    expect({ status: d.status, error: d.error }).toEqual({ status: 'succeeded', error: null });
    expect((await httpGetUntil(port, (r) => r.body === `uploaded page v2 ${token}`, 60_000)).body).toBe(`uploaded page v2 ${token}`);
    const get = await api().get(`/api/v1/applications/${appId}/source`).set(owner.auth).expect(200);
    expect(get.body.upload).toMatchObject({ id: res.body.upload.id, fileName: 'site-v2.tgz', size: archive.length, sha256: sha256(archive), uploadedAt: expect.any(String) });

    // A zip works the same (read back from the database with random access, extracted from a file by the worker).
    const zip = zipOf([
      { name: 'site/' },
      { name: 'site/Dockerfile', body: `FROM ${BUSYBOX_IMAGE}\nCOPY www /www\nCMD ["httpd", "-f", "-p", "8080", "-h", "/www"]\n`, deflate: true },
      { name: 'site/www/index.html', body: `uploaded page v3 (zip) ${token}`, deflate: true },
    ]);
    const z = await upload(appId, zip, 'application/zip', '?deploy=true&filename=site-v3.zip').expect(201);
    expect(z.body.upload).toMatchObject({ format: 'zip', fileName: 'site-v3.zip', sha256: sha256(zip), entries: 3 });
    const dz = await waitForDeployment(t, owner, z.body.deployment.id, 180_000);
    expect({ status: dz.status, error: dz.error }).toEqual({ status: 'succeeded', error: null });
    expect((await httpGetUntil(port, (r) => r.body === `uploaded page v3 (zip) ${token}`, 60_000)).body).toBe(`uploaded page v3 (zip) ${token}`);

    const back = await api().post(`/api/v1/deployments/${first!.deploymentId}/rollback`).set(owner.auth).send({}).expect(202);
    const r = await waitForDeployment(t, owner, back.body.id, 120_000);
    expect(r.status).toBe('succeeded');
    expect(await logText(t, owner, String(r.id))).not.toContain('Extracting');
    expect((await httpGetUntil(port, (x) => x.body === `uploaded page v1 ${token}`, 60_000)).body).toBe(`uploaded page v1 ${token}`);
  });

  it('refuses hostile archives with a 4xx naming the reason, storing and writing nothing', async () => {
    const before = await uploads(appId);
    const version = (await api().get(`/api/v1/applications/${appId}/source`).set(owner.auth).expect(200)).body.version;
    const outside = `/tmp/wharf-upload-escape-${token}`;
    const cases: Array<{ label: string; body: Buffer; type?: string; status: number; code: string; detail: RegExp }> = [
      { label: 'traversal', body: gzipSync(await site('x', [{ name: `../../../../../..${outside}`, body: 'pwned' }])), status: 400, code: 'path-traversal', detail: /contains a \.\. segment/ },
      { label: 'absolute', body: gzipSync(await site('x', [{ name: outside, body: 'pwned' }])), status: 400, code: 'absolute-path', detail: /is an absolute path/ },
      { label: 'symlink out', body: gzipSync(await site('x', [{ name: 'site/etc', type: 'symlink', linkname: '../../etc' }])), status: 400, code: 'link-escape', detail: /links outside the archive/ },
      { label: 'device', body: gzipSync(await site('x', [{ name: 'site/null', type: 'character-device', devmajor: 1, devminor: 3 }])), status: 400, code: 'special-file', detail: /character-device/ },
      { label: 'too many entries', body: gzipSync(await tarOf(Array.from({ length: 501 }, (_, i) => ({ name: `f${i}`, body: '' })))), status: 400, code: 'too-many-entries', detail: /more than 500 entries/ },
      { label: 'garbage', body: randomBytes(4096), status: 400, code: 'not-an-archive', detail: /is not a gzip-compressed tar archive/ },
      { label: 'garbage after gzip magic', body: Buffer.concat([Buffer.from([0x1f, 0x8b]), randomBytes(4096)]), status: 400, code: 'not-an-archive', detail: /not a readable tar\.gz archive/ },
      { label: 'tar sent as gzip', body: await site('x'), status: 400, code: 'not-an-archive', detail: /uncompressed tar/ },
      { label: 'zip traversal', body: zipOf([{ name: 'Dockerfile', body: 'FROM scratch' }, { name: '../../escape', body: 'x' }]), type: 'application/zip', status: 400, code: 'path-traversal', detail: /"\.\.\/\.\.\/escape" path contains a \.\. segment/ },
      { label: 'zip link out', body: zipOf([{ name: 'etc', body: '/etc', mode: 0o120777 }]), type: 'application/zip', status: 400, code: 'link-escape', detail: /absolute path/ },
      { label: 'zip bomb', body: zipOf([{ name: 'zeros', body: Buffer.alloc(3 * 1024 * 1024), deflate: true }]), type: 'application/x-zip-compressed', status: 400, code: 'too-large-extracted', detail: /once extracted/ },
      { label: 'gzip sent as zip', body: gzipSync(await site('x')), type: 'application/zip', status: 400, code: 'not-an-archive', detail: /gzip-compressed \(send application\/gzip\), not a zip archive/ },
    ];
    for (const c of cases) {
      const res = await upload(appId, c.body, c.type ?? 'application/gzip');
      expect({ label: c.label, status: res.status, type: res.headers['content-type'], code: res.body.errors?.[0]?.code }).toEqual({ label: c.label, status: c.status, type: expect.stringMatching(/^application\/problem\+json/), code: c.code });
      expect(res.body.detail).toMatch(c.detail);
    }
    // Oversized (WHARF_UPLOAD_MAX_MB=1): declared and streamed; the wrong media types.
    const big = randomBytes(1024 * 1024 + 10);
    const tooBig = await upload(appId, big);
    expect({ status: tooBig.status, code: tooBig.body.code }).toEqual({ status: 413, code: 'payload-too-large' });
    expect(tooBig.body.detail).toMatch(/larger than 1 MiB/);
    for (const type of ['text/plain', 'application/x-7z-compressed', 'application/json']) {
      const res = await upload(appId, type === 'application/json' ? Buffer.from('{"a":1}') : Buffer.from('7z\u00bc\u00af\u0027\u001c'), type);
      expect({ type, status: res.status, code: res.body.code }).toEqual({ type, status: 415, code: 'unsupported-media-type' });
      expect(res.body.detail).toMatch(/application\/gzip, application\/x-gzip, application\/x-tar, application\/zip, application\/x-zip-compressed/);
    }
    expect(existsSync(outside)).toBe(false);
    expect(await uploads(appId)).toEqual(before);
    expect((await api().get(`/api/v1/applications/${appId}/source`).set(owner.auth).expect(200)).body.version).toBe(version);
  });

  it('an archive whose link escapes only through another link passes the entry checks and fails the build, naming the reason', async () => {
    const escapeApp = await app('uploaded-escape', null);
    const archive = gzipSync(await tarOf([
      { name: 'Dockerfile', body: `FROM ${BUSYBOX_IMAGE}\n` },
      { name: 's', type: 'symlink', linkname: '.' },
      { name: 'l', type: 'symlink', linkname: 's/..' },
    ]));
    const res = await upload(escapeApp, archive, 'application/gzip', '?deploy=true').expect(201);
    const d = await waitForDeployment(t, owner, res.body.deployment.id, 120_000);
    expect(d.status).toBe('failed');
    expect(d.error).toMatch(/^Upload refused \(link-escape\): The archive symbolic link "l" resolves outside the archive/);
    expect(await logText(t, owner, String(d.id))).toContain('Extracting the uploaded archive source.tar.gz');
  });

  it('tenancy and conventions: another organization 404, a viewer 403, a Git source 409, stale If-Match 412, Idempotency-Key', async () => {
    const archive = gzipSync(await site(`page ${token}`));
    const viewer = await addMember(t, owner, owner.organizationId, `viewer-${token}@example.com`, 'viewer');
    const stranger = await addMember(t, owner, owner.organizationId, `stranger-${token}@example.net`, 'viewer');
    await createOrganization(t, stranger, `Other ${token}`);
    await api().delete(`/api/v1/organizations/${owner.organizationId}/members/${stranger.userId}`).set(owner.auth).expect(204);
    const before = await uploads(appId);
    const other = await upload(appId, archive, 'application/gzip', '', stranger.auth);
    expect({ status: other.status, code: other.body.code }).toEqual({ status: 404, code: 'not-found' });
    expect((await upload(appId, archive, 'application/gzip', '', viewer.auth)).status).toBe(403);
    expect(await uploads(appId)).toEqual(before);

    const gitApp = await app('git-app', null);
    await api().put(`/api/v1/applications/${gitApp}/source`).set(owner.auth).send({ repository: 'https://git.example.com/acme/shop.git', ref: 'main', auth: { kind: 'none' } }).expect(200);
    const conflict = await upload(gitApp, archive);
    expect({ status: conflict.status, code: conflict.body.code }).toEqual({ status: 409, code: 'source-not-upload' });
    // Switching it to an upload source keeps the build settings shape and drops the repository.
    const switched = await api().put(`/api/v1/applications/${gitApp}/source`).set(owner.auth).send({ kind: 'upload', buildPath: 'site' }).expect(200);
    expect(switched.body).toMatchObject({ kind: 'upload', repository: '', ref: '', upload: null, auth: { kind: 'none', tokenSet: false } });
    const noArchive = await api().post(`/api/v1/applications/${gitApp}/deployments`).set(owner.auth).send({});
    expect({ status: noArchive.status, code: noArchive.body.code }).toEqual({ status: 409, code: 'no-upload' });
    const stale = await upload(gitApp, archive, 'application/gzip', '', owner.auth, { 'If-Match': `"${switched.body.version - 1}"` });
    expect(stale.status).toBe(412);
    const one = await upload(gitApp, archive, 'application/gzip', '', owner.auth, { 'If-Match': `"${switched.body.version}"`, 'Idempotency-Key': `up-${token}` }).expect(201);
    const again = await upload(gitApp, archive, 'application/gzip', '', owner.auth, { 'Idempotency-Key': `up-${token}` }).expect(201);
    expect(again.body.upload.id).toBe(one.body.upload.id);
    const reused = await upload(gitApp, gzipSync(await site('other')), 'application/gzip', '', owner.auth, { 'Idempotency-Key': `up-${token}` });
    expect({ status: reused.status, code: reused.body.code }).toEqual({ status: 422, code: 'idempotency-key-reused' });
    expect(await uploads(gitApp)).toEqual([{ status: 'complete', n: 1 }]);
    // Webhooks of an upload source answer as for no source.
    expect((await api().post(`/api/v1/webhooks/applications/${gitApp}/generic`).set('Content-Type', 'application/json').send({})).status).toBe(404);
  });

  it('retention keeps the source\'s archive and those of the newest deployments (WHARF_UPLOADS_KEEP=1), removes the rest', async () => {
    // The first app holds three uploads: v3 (its source's), v2 and v1 (older deployments' only; the newest deployment, the
    // rollback, names none).
    expect(await uploads(appId)).toEqual([{ status: 'complete', n: 3 }]);
    await db.query(`UPDATE source_uploads SET completed_at = now() - interval '1 hour' WHERE application_id = $1`, [appId]);
    const queue = t.app.get<Queue>(getQueueToken('maintenance'), { strict: false });
    const r = await runJob<{ deleted: number }>(queue, 'sources.purge-uploads', { v: 1 });
    expect(r.deleted).toBeGreaterThanOrEqual(1);
    const left = await db.query(`SELECT id FROM source_uploads WHERE application_id = $1`, [appId]);
    expect(left.rows.map((x) => x.id)).not.toContain(first!.uploadId);
    expect(left.rows).toHaveLength(1);
    const chunks = await db.query(`SELECT count(*)::int AS n FROM source_upload_chunks WHERE upload_id = $1`, [first!.uploadId]);
    expect(chunks.rows[0].n).toBe(0);
  });
});
