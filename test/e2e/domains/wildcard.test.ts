/**
 * Wildcard domains (`*.example.test`) end to end against PostgreSQL, a real ACME CA (Debian's pebble) and
 * pebble-challtestsrv as the DNS server and DNS-01 provider:
 *  - the API refuses a wildcard with HTTPS while the organization is on HTTP-01 (400 naming `/host`), allows it
 *    without HTTPS, refuses the www redirect on it and `*.<the instance's wildcard domain>`;
 *  - on DNS-01 the certificate is ordered and its SAN is the wildcard; the router is a HostRegexp that ranks below a
 *    specific host of the same organization; the challenge TXT record lived at `_acme-challenge.<base>` and is gone;
 *  - an organization that went back to HTTP-01 gets a failed attempt with reason `dns` and no order;
 *  - CAA `issuewild` of the base name decides for the wildcard;
 *  - conflicts across organizations between a wildcard and a name one label under it, both ways, without naming the
 *    holder; within one organization they coexist (exact host + path stays a conflict).
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import request from 'supertest';
import { parse } from 'yaml';
import { startTestApp, TestApp } from '../../support/app';
import { addMember, createOrganization, Session, setupOwner } from '../../support/api';
import { Challtestsrv, challtestsrvCall, Pebble, preparePebble, startChalltestsrv } from '../../support/acme';
import { until } from '../../support/until';
import { sql } from '../audit/helpers';

jest.setTimeout(120_000);

const WILDCARD_MESSAGE = "wildcard certificates need the DNS-01 challenge; set a DNS provider in the organization's ACME settings";

interface Cert {
  id: string;
  domainId: string;
  status: string;
  hosts: string[];
  serial: string | null;
  lastAttemptAt: string | null;
  lastError: string | null;
  lastErrorReason: string | null;
}
interface Router {
  entryPoints: string[];
  rule: string;
  priority?: number;
  tls?: object;
}

describe('wildcard domains (pebble + challtestsrv)', () => {
  let t: TestApp;
  let dns: Challtestsrv;
  let pebble: Pebble;
  let owner: Session & { organizationId: string };
  let other: Session;
  let otherOrg: string;
  let appId: string;
  let app2Id: string;
  let otherAppId: string;
  let traefikDir: string;

  async function newApp(s: Session, orgId: string, name: string): Promise<string> {
    const project = await request(t.server).post(`/api/v1/organizations/${orgId}/projects`).set(s.auth).send({ name: `${name}-project` }).expect(201);
    return (await request(t.server).post(`/api/v1/environments/${project.body.environments[0].id}/applications`).set(s.auth).send({ name, spec: { image: 'busybox:latest' } }).expect(201)).body.id;
  }

  beforeAll(async () => {
    dns = await startChalltestsrv();
    const prepared = await preparePebble();
    traefikDir = join(mkdtempSync(join(tmpdir(), 'wharf-traefik-')), 'dynamic');
    t = await startTestApp({
      WHARF_ACME_DIRECTORY_URL: prepared.directoryUrl,
      WHARF_ACME_CA_FILE: prepared.caFile,
      WHARF_DNS_SERVERS: `127.0.0.1:${dns.dnsPort}`,
      WHARF_PUBLIC_IPS: '127.0.0.1',
      WHARF_ACME_CAA_IDENTITIES: 'pebble.example',
      WHARF_TRAEFIK_DIR: traefikDir,
      WHARF_WILDCARD_DOMAIN: 'apps.example.test',
    });
    const port = (t.server.address() as { port: number }).port;
    pebble = await prepared.start({ httpPort: port, dnsServer: `127.0.0.1:${dns.dnsPort}` });
    owner = await setupOwner(t, 'owner@example.com', 'Acme');
    other = await addMember(t, owner, owner.organizationId, 'other@example.net', 'viewer');
    otherOrg = await createOrganization(t, other, 'Other');
    await request(t.server).delete(`/api/v1/organizations/${owner.organizationId}/members/${other.userId}`).set(other.auth).expect(204);
    appId = await newApp(owner, owner.organizationId, 'site');
    app2Id = await newApp(owner, owner.organizationId, 'api');
    otherAppId = await newApp(other, otherOrg, 'theirs');
  });
  afterAll(async () => {
    await t?.close();
    await pebble?.stop();
    await dns?.stop();
  });

  const add = (s: Session, app: string, body: Record<string, unknown>) => request(t.server).post(`/api/v1/applications/${app}/domains`).set(s.auth).send({ port: 8080, https: false, ...body });
  const setAcme = (body: Record<string, unknown>) => request(t.server).put(`/api/v1/organizations/${owner.organizationId}/acme`).set(owner.auth).send(body).expect(200);
  const certOf = async (domainId: string): Promise<Cert | undefined> =>
    ((await request(t.server).get(`/api/v1/organizations/${owner.organizationId}/certificates`).set(owner.auth).expect(200)).body as Cert[]).find((c) => c.domainId === domainId);
  async function settled(domainId: string, pred: (c: Cert) => boolean, what: string): Promise<Cert> {
    let last: Cert | undefined;
    await until(what, async () => {
      last = await certOf(domainId);
      return !!last && pred(last);
    }, 60_000, 100).catch((e) => {
      throw new Error(`${(e as Error).message}: ${JSON.stringify(last)}\n--- pebble ---\n${pebble.log().slice(-1500)}`);
    });
    return last!;
  }
  const routersOf = (app: string): Record<string, Router> => {
    const file = readdirSync(traefikDir).find((f) => f.includes(app));
    return file ? (parse(readFileSync(join(traefikDir, file), 'utf8')) as { http: { routers: Record<string, Router> } }).http.routers : {};
  };

  it('on HTTP-01: a wildcard with HTTPS is a 400 naming /host; without HTTPS it is allowed; no www redirect; never *.<instance wildcard>', async () => {
    const refused = await add(owner, appId, { host: '*.example.test', https: true }).expect(400);
    expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(refused.body.errors).toEqual([{ pointer: '/host', code: 'wildcard-needs-dns-01', detail: WILDCARD_MESSAGE }]);
    const www = await add(owner, appId, { host: '*.plain.example.test', wwwRedirect: true }).expect(400);
    expect(www.body.errors.map((e: { pointer: string }) => e.pointer)).toEqual(['/wwwRedirect']);
    const plain = await add(owner, appId, { host: '*.Plain.example.test' }).expect(201);
    expect(plain.body).toMatchObject({ host: '*.plain.example.test', https: false });
    // Turning HTTPS on later is the same refusal; other changes of the domain are fine.
    const patched = await request(t.server).patch(`/api/v1/domains/${plain.body.id}`).set(owner.auth).send({ https: true }).expect(400);
    expect(patched.body.errors).toEqual([{ pointer: '/host', code: 'wildcard-needs-dns-01', detail: WILDCARD_MESSAGE }]);
    await request(t.server).patch(`/api/v1/domains/${plain.body.id}`).set(owner.auth).send({ port: 9090 }).expect(200);
    // The instance's generated domains live one label under WHARF_WILDCARD_DOMAIN: nobody may cover them all.
    const instance = await add(owner, appId, { host: '*.apps.example.test' }).expect(409);
    expect(instance.body.errors[0]).toMatchObject({ pointer: '/host', code: 'domain-taken' });
    expect((await sql(t, `SELECT 1 FROM domains WHERE host IN ('*.example.test', '*.apps.example.test')`)).length).toBe(0);
  });

  it('across organizations a wildcard and a name one label under it exclude each other, without naming the holder', async () => {
    // Another organization holds a name under the base: the wildcard is refused, on any path.
    await add(other, otherAppId, { host: 'x.conflict.example.test' }).expect(201);
    const wild = await add(owner, appId, { host: '*.conflict.example.test', pathPrefix: '/free' }).expect(409);
    // Another organization holds the wildcard: every name directly under it is refused (deeper names and the base are not).
    await add(other, otherAppId, { host: '*.theirs.example.test' }).expect(201);
    const specific = await add(owner, appId, { host: 'y.theirs.example.test' }).expect(409);
    // A www redirect answers on the www form too: that name counts under the wildcard.
    const viaWww = await add(owner, appId, { host: 'theirs.example.test', wwwRedirect: true }).expect(409);
    await add(owner, appId, { host: 'theirs.example.test' }).expect(201);
    await add(owner, appId, { host: 'a.b.theirs.example.test' }).expect(201);
    // The same wildcard is refused too, and a change onto a covered name is refused like a creation.
    const same = await add(owner, appId, { host: '*.theirs.example.test' }).expect(409);
    const mine = await add(owner, appId, { host: 'free.example.org' }).expect(201);
    const moved = await request(t.server).patch(`/api/v1/domains/${mine.body.id}`).set(owner.auth).send({ host: 'z.theirs.example.test' }).expect(409);
    for (const r of [wild, specific, viaWww, same, moved]) {
      expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(r.body).toMatchObject({ status: 409, code: 'domain-taken', errors: [{ pointer: '/host', code: 'domain-taken' }] });
      for (const secret of [otherOrg, otherAppId, 'Other', 'theirs-project', 'other@example.net']) expect(r.text).not.toContain(secret);
    }
    // The reverse direction for the owner's names: the other organization cannot put a wildcard over them.
    await add(other, otherAppId, { host: '*.example.org' }).expect(409);
  });

  it('within one organization a wildcard and specific names coexist; exact host + path stays a conflict', async () => {
    await add(owner, appId, { host: '*.shared.example.test' }).expect(201);
    await add(owner, app2Id, { host: 'api.shared.example.test' }).expect(201);
    await add(owner, app2Id, { host: '*.shared.example.test', pathPrefix: '/v2' }).expect(201);
    const dup = await add(owner, app2Id, { host: '*.Shared.example.test' }).expect(409);
    expect(dup.body.errors[0]).toMatchObject({ pointer: '/host', code: 'domain-taken' });
  });

  it('on DNS-01: the wildcard gets a certificate whose SAN is *.example.test; its router ranks below a specific host', async () => {
    await setAcme({ challenge: 'dns-01', dnsProvider: { kind: 'challtestsrv', managementUrl: dns.managementUrl } });
    // The wildcard name has no address of its own: DNS-01 needs none.
    const wild = await add(owner, appId, { host: '*.example.test', https: true }).expect(201);
    const c = await settled(wild.body.id, (x) => x.status !== 'pending', 'the wildcard certificate');
    expect(c).toMatchObject({ status: 'valid', hosts: ['*.example.test'], lastError: null });
    const [row] = await sql<{ chain_pem: string }>(t, `SELECT chain_pem FROM certificates WHERE id = $1`, [c.id]);
    const leaf = new X509Certificate(row.chain_pem);
    expect(leaf.subjectAltName).toBe('DNS:*.example.test');
    expect(leaf.checkHost('anything.example.test')).toBe('*.example.test');
    expect(leaf.checkHost('example.test')).toBeUndefined();
    // pebble validated the TXT record at _acme-challenge.example.test (not _acme-challenge.*.example.test); it is gone now.
    expect(await dns.txt('_acme-challenge.example.test')).toEqual([]);

    // Traefik's file (written when a certificate arrives): a HostRegexp router with TLS; a specific host of the
    // organization on another application outranks it.
    const specific = await add(owner, app2Id, { host: 'shop.example.test', https: true }).expect(201);
    await settled(specific.body.id, (x) => x.status === 'valid', 'the specific certificate');
    const w = Object.values(routersOf(appId)).find((r) => r.rule === 'HostRegexp(`^[a-z0-9-]+\\.example\\.test$`)' && r.tls)!;
    const s = Object.values(routersOf(app2Id)).find((r) => r.rule === 'Host(`shop.example.test`)' && r.tls)!;
    expect(w).toBeDefined();
    expect(s).toBeDefined();
    expect(s.priority!).toBeGreaterThan(w.priority!);
    expect(s.rule.length).toBeLessThan(w.rule.length); // Traefik's default (the rule length) would have picked the wildcard
  });

  it('CAA issuewild at the base name decides for the wildcard', async () => {
    await challtestsrvCall(dns, '/add-caa', { host: 'strict.example.test.', policies: [{ tag: 'issue', value: 'pebble.example' }, { tag: 'issuewild', value: 'other-ca.example' }] });
    const d = await add(owner, appId, { host: '*.strict.example.test', https: true }).expect(201);
    const c = await settled(d.body.id, (x) => x.status !== 'pending', 'the CAA refusal');
    expect(c).toMatchObject({ status: 'failed', lastErrorReason: 'caa-forbidden' });
    expect(c.lastError).toContain('CAA records at strict.example.test allow only other-ca.example to issue for *.strict.example.test');
    // The specific name under it is governed by `issue`, which names this CA.
    const s = await add(owner, appId, { host: 'www2.strict.example.test', https: true }).expect(201);
    expect(await settled(s.body.id, (x) => x.status !== 'pending', 'the specific name')).toMatchObject({ status: 'valid' });
  });

  it('an organization back on HTTP-01: renewing the wildcard fails with reason dns before any order', async () => {
    const [{ id: domainId }] = await sql<{ id: string }>(t, `SELECT id FROM domains WHERE host = '*.example.test'`);
    const before = (await certOf(domainId))!;
    const orders = (pebble.log().match(/Added order/g) ?? []).length;
    await setAcme({ challenge: 'http-01', dnsProvider: null });
    await request(t.server).post(`/api/v1/domains/${domainId}/certificate/renew`).set(owner.auth).expect(202);
    const c = await settled(domainId, (x) => x.lastErrorReason === 'dns', 'the refused renewal');
    expect(c.lastError).toBe(`*.example.test: ${WILDCARD_MESSAGE}`);
    // The certificate still valid keeps being served; nothing was ordered.
    expect(c).toMatchObject({ status: 'valid', serial: before.serial });
    expect(orders).toBeGreaterThan(0);
    expect((pebble.log().match(/Added order/g) ?? []).length).toBe(orders);
    // And a new wildcard with HTTPS is refused at the API again.
    await add(owner, app2Id, { host: '*.again.example.test', https: true }).expect(400);
  });
});
