/**
 * Coming expiry is a domain event (`certificate.expiring`, once per certificate): an uploaded certificate 14 days
 * before it ends, and an ACME certificate whose renewals keep failing (here the DNS pre-check: the name does not
 * resolve), 14 days before it ends while still served.
 * No CA is needed: the failing renewal stops at the pre-check, before any order.
 */
import request from 'supertest';
import { startTestApp, TestApp } from '../../support/app';
import { Session, setupOwner } from '../../support/api';
import { selfSignedPem } from '../../support/acme';
import { until } from '../../support/until';
import { CertificateIssuer } from '../../../apps/worker/src/certificates/certificate-issuer';
import { auditAll, sql } from '../audit/helpers';

jest.setTimeout(90_000);

describe('certificate.expiring', () => {
  let t: TestApp;
  let owner: Session & { organizationId: string };
  let appId: string;

  beforeAll(async () => {
    // Names under .invalid never resolve (RFC 6761): every ACME attempt fails its pre-check with dns-missing.
    t = await startTestApp({ WHARF_PUBLIC_IPS: '127.0.0.1' });
    owner = await setupOwner(t, 'owner@example.com', 'Acme');
    const project = await request(t.server).post(`/api/v1/organizations/${owner.organizationId}/projects`).set(owner.auth).send({ name: 'web' }).expect(201);
    appId = (await request(t.server).post(`/api/v1/environments/${project.body.environments[0].id}/applications`).set(owner.auth).send({ name: 'site', spec: { image: 'busybox:latest' } }).expect(201)).body.id;
  });
  afterAll(async () => {
    await t?.close();
  });

  const addDomain = async (host: string) =>
    (await request(t.server).post(`/api/v1/applications/${appId}/domains`).set(owner.auth).send({ host, port: 8080, https: true }).expect(201)).body.id as string;
  const expiring = async () => (await auditAll(t, owner, owner.organizationId)).filter((e) => e.action === 'certificate.expiring');

  it('an uploaded certificate: warned once when 14 days or less are left', async () => {
    const far = await addDomain('far.wharf-test.invalid');
    const near = await addDomain('near.wharf-test.invalid');
    await request(t.server).put(`/api/v1/domains/${far}/certificate`).set(owner.auth).send(selfSignedPem('far.wharf-test.invalid', 60)).expect(200);
    await request(t.server).put(`/api/v1/domains/${near}/certificate`).set(owner.auth).send(selfSignedPem('near.wharf-test.invalid', 10)).expect(200);
    const issuer = t.app.get(CertificateIssuer);
    await issuer.renewDue();
    await issuer.renewDue();
    let events: Awaited<ReturnType<typeof expiring>> = [];
    await until('the expiring entry', async () => (events = await expiring()).length > 0, 20_000, 100);
    expect(events.map((e) => e.subject.name)).toEqual(['near.wharf-test.invalid']);
  });

  it('an ACME certificate whose renewal keeps failing: still served and warned once', async () => {
    const domainId = await addDomain('acme.wharf-test.invalid');
    const issuer = t.app.get(CertificateIssuer);
    // The first order fails its pre-check (the name does not resolve)...
    await until('the first attempt to fail', async () => (await sql<{ status: string }>(t, `SELECT status FROM certificates WHERE domain_id = $1`, [domainId]))[0]?.status === 'failed', 30_000, 100);
    // ...then pretend an earlier order succeeded 80 days ago: valid for 10 more days, renewal overdue.
    const pem = selfSignedPem('acme.wharf-test.invalid', 10);
    await sql(t, `UPDATE certificates SET status = 'valid', chain_pem = $2, not_before = now() - interval '80 days', not_after = now() + interval '10 days', next_attempt_at = NULL WHERE domain_id = $1`, [domainId, pem.certificatePem]);
    await issuer.renewDue();
    await issuer.renewDue();
    let events: Awaited<ReturnType<typeof expiring>> = [];
    await until('the expiring entry', async () => (events = (await expiring()).filter((e) => e.subject.name === 'acme.wharf-test.invalid')).length > 0, 20_000, 100);
    expect(events).toHaveLength(1);
    const [row] = await sql<{ status: string; last_error_reason: string; expiry_warned_at: Date | null }>(t, `SELECT status, last_error_reason, expiry_warned_at FROM certificates WHERE domain_id = $1`, [domainId]);
    expect(row).toMatchObject({ status: 'valid', last_error_reason: 'dns-missing' });
    expect(row.expiry_warned_at).not.toBeNull();
  });
});
