import { Inject, Injectable, Logger } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { dnsChallengeSolver, ACME_PORT, AcmeOrderError, AcmePort } from '@wharf/orchestration';
import { ApplicationEntity } from '@wharf/applications';
import { JobHandler, newId, SecretBox, TransactionRunner, WHARF_CONFIG, WharfConfig } from '@wharf/core';
import { SYSTEM_ACTOR } from '@wharf/tenancy';
import type { DnsProviderConfig } from '@wharf/contracts';
import {
  acmeAccountKeyAad,
  AcmeSettingsEntity,
  CertificateEntity,
  certificateHostsOf,
  certificateKeyAad,
  checkDns,
  describeLeaf,
  DomainEntity,
  dnsProblem,
  dnsProviderAad,
  isWildcardHost,
  renewalDueAt,
  WILDCARD_NEEDS_DNS01,
} from '@wharf/routing';
import { ApplicationRouting } from '../routing/application-routing';
import { AcmeHttp01 } from './acme-http01';

/** Backoff after failed orders: 5 min, doubling, at most a day (a CA's Retry-After wins when longer). */
export function nextAttemptAfter(failures: number, now: Date, retryAfterSeconds: number | null): Date {
  const backoff = Math.min(5 * 60_000 * 2 ** Math.max(0, failures - 1), 24 * 3600_000);
  return new Date(now.getTime() + Math.max(backoff, (retryAfterSeconds ?? 0) * 1000));
}

/**
 * Warn (`certificate.expiring`, once per certificate) this many days before it expires: an uploaded certificate that
 * nobody replaced, or an ACME one whose renewals (due from 30 days before) kept failing. For short-lived ACME
 * certificates the point is a sixth of the lifetime instead (half-way between the renewal point and expiry).
 */
export const EXPIRY_WARNING_DAYS = 14;
const ORDER_DEADLINE_MS = 5 * 60_000;

/**
 * Obtains and renews domains' certificates from ACME (acme-client behind AcmePort) and hands them to Traefik.
 * Before ordering it checks what a CA would: the name resolves to this server (HTTP-01) and CAA allows the CA, and
 * says what is wrong instead of spending an order (CAs rate-limit failed validations). Each outcome is recorded on the
 * certificate (status, last attempt, error and reason, next attempt) and is a domain event (`certificate.issued`,
 * `.renewed`, `.failed`, `.expiring`). A failed renewal keeps serving the previous certificate until it expires.
 */
@Injectable()
export class CertificateIssuer {
  private readonly logger = new Logger('Certificates');
  constructor(
    private readonly ds: DataSource,
    private readonly tx: TransactionRunner,
    private readonly box: SecretBox,
    private readonly routing: ApplicationRouting,
    @Inject(ACME_PORT) private readonly acme: AcmePort,
    @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
    private readonly http01: AcmeHttp01,
  ) {}

  @JobHandler('certificate.issue')
  async issueJob(payload: { domainId: string }): Promise<void> {
    await this.issue(payload.domainId);
  }

  @JobHandler('routing.apply')
  async routingJob(payload: { applicationId: string }): Promise<void> {
    const app = await this.ds.manager.findOneBy(ApplicationEntity, { id: payload.applicationId });
    if (!app) {
      await this.routing.remove(payload.applicationId);
      return;
    }
    if (app.deleting) return;
    await this.routing.apply(app.id, app.serviceName);
  }

  /** Renewals due, failed orders whose backoff ended, uploaded certificates close to expiry. */
  @JobHandler('certificates.renew-due')
  async renewDue(): Promise<{ ordered: number; warned: number }> {
    const now = new Date();
    const due: Array<{ domain_id: string }> = await this.ds.query(
      `SELECT c.domain_id FROM certificates c JOIN domains d ON d.id = c.domain_id
        WHERE c.source = 'acme' AND COALESCE((d.options->>'https')::boolean, false)
          AND (c.next_attempt_at IS NULL OR c.next_attempt_at <= $1)
          AND (c.status <> 'valid' OR c.not_after IS NULL
               OR c.not_after - LEAST(interval '30 days', (c.not_after - c.not_before) / 3) <= $1)
        ORDER BY c.not_after NULLS FIRST LIMIT 200`,
      [now],
    );
    for (const r of due) await this.issue(r.domain_id).catch((e) => this.logger.warn(`renewal of domain ${r.domain_id}: ${(e as Error).message}`));
    const expiring: CertificateEntity[] = await this.ds.manager
      .createQueryBuilder(CertificateEntity, 'c')
      .where(
        `c.status = 'valid' AND c.expiry_warned_at IS NULL AND c.not_after IS NOT NULL AND c.not_before IS NOT NULL
           AND c.not_after - CASE WHEN c.source = 'custom' THEN interval '${EXPIRY_WARNING_DAYS} days'
                                  ELSE LEAST(interval '${EXPIRY_WARNING_DAYS} days', (c.not_after - c.not_before) / 6) END <= :now`,
        { now },
      )
      .getMany();
    for (const c of expiring) {
      const domain = await this.ds.manager.findOneBy(DomainEntity, { id: c.domainId });
      // An ACME certificate of a domain whose HTTPS was turned off is no longer served: nothing to warn about.
      if (!domain || (c.source === 'acme' && !domain.options.https)) continue;
      await this.tx.run(async (m, stage) => {
        await m.update(CertificateEntity, { id: c.id }, { expiryWarnedAt: now });
        const daysLeft = Math.max(0, Math.floor((c.notAfter!.getTime() - now.getTime()) / 86_400_000));
        await stage({ type: 'certificate.expiring', organizationId: c.organizationId, actor: SYSTEM_ACTOR, subject: { type: 'certificate', id: domain.id, name: domain.host }, payload: { ...this.payload(domain, c), daysLeft } });
      });
    }
    return { ordered: due.length, warned: expiring.length };
  }

  private payload(d: DomainEntity, c: Pick<CertificateEntity, 'hosts' | 'notAfter'>) {
    return { applicationId: d.applicationId, projectId: d.projectId, environmentId: d.environmentId, domainId: d.id, hosts: [...c.hosts], notAfter: c.notAfter ? c.notAfter.toISOString() : null };
  }

  /**
   * Orders in flight per domain: a second request for the same domain (an event and the renewal job) waits for it and
   * orders again only if the domain's names changed meanwhile.
   */
  private readonly inFlight = new Map<string, Promise<CertificateEntity | null>>();

  /** Orders the domain's certificate now; returns the certificate row as it ends (null: nothing to do). */
  async issue(domainId: string): Promise<CertificateEntity | null> {
    const running = this.inFlight.get(domainId);
    if (running) {
      const done = await running.catch(() => null);
      const domain = await this.ds.manager.findOneBy(DomainEntity, { id: domainId });
      if (!domain || !done || [...done.hosts].sort().join() === certificateHostsOf(domain).sort().join()) return done;
      return this.issue(domainId);
    }
    const p = this.issueNow(domainId).finally(() => this.inFlight.delete(domainId));
    this.inFlight.set(domainId, p);
    return p;
  }

  private async issueNow(domainId: string): Promise<CertificateEntity | null> {
    const domain = await this.ds.manager.findOneBy(DomainEntity, { id: domainId });
    if (!domain || !domain.options.https) return null;
    const app = await this.ds.manager.findOneBy(ApplicationEntity, { id: domain.applicationId });
    if (!app || app.deleting) return null;
    const hosts = certificateHostsOf(domain);
    const existing = await this.ds.manager.findOneBy(CertificateEntity, { domainId });
    if (existing?.source === 'custom') return existing;
    const row = existing ?? (await this.createPending(domain, hosts));
    const settings = await this.ds.manager.findOneBy(AcmeSettingsEntity, { organizationId: domain.organizationId });
    const challenge = settings?.challenge ?? 'http-01';
    const directoryUrl = settings?.staging ? this.config.acme.stagingDirectoryUrl : this.config.acme.directoryUrl;
    const attemptAt = new Date();
    // A CA validates a wildcard only through DNS: on HTTP-01 (the organization changed it since) fail before any order.
    if (challenge !== 'dns-01' && hosts.some(isWildcardHost)) return this.failed(domain, row, hosts, attemptAt, `${domain.host}: ${WILDCARD_NEEDS_DNS01}`, 'dns', null);

    // What a CA would find, asked first: every name must point here (HTTP-01) and CAA must allow the CA.
    const { publicIps, dnsServers, caaIdentities } = this.config.acme;
    for (const host of hosts) {
      const problem = dnsProblem(await checkDns(host, { servers: dnsServers, publicIps, caaIdentities }), challenge);
      if (problem) return this.failed(domain, row, hosts, attemptAt, problem.message, problem.reason, null);
    }

    let dns01: ReturnType<typeof dnsChallengeSolver> | undefined;
    if (challenge === 'dns-01') {
      if (!settings?.dnsProviderBox) return this.failed(domain, row, hosts, attemptAt, 'DNS-01 is chosen but no DNS provider is configured', 'dns', null);
      dns01 = dnsChallengeSolver(JSON.parse(this.box.decrypt(settings.dnsProviderBox, dnsProviderAad(domain.organizationId))) as DnsProviderConfig);
    }
    if (challenge === 'http-01') await this.http01.ensureChallengeRouter();
    const [account]: Array<{ key_box: string; account_url: string | null }> = await this.ds.query(
      `SELECT key_box, account_url FROM acme_accounts WHERE organization_id = $1 AND directory_url = $2`,
      [domain.organizationId, directoryUrl],
    );
    try {
      const result = await this.acme.order({
        directoryUrl,
        accountKeyPem: account ? this.box.decrypt(account.key_box, acmeAccountKeyAad(domain.organizationId, directoryUrl)) : null,
        accountUrl: account?.account_url ?? null,
        email: settings?.email ?? null,
        hosts,
        challenge,
        http01: this.http01.solver,
        dns01,
        deadlineMs: ORDER_DEADLINE_MS,
      });
      if (!account) {
        await this.ds.query(
          `INSERT INTO acme_accounts (organization_id, directory_url, email, key_box, account_url) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (organization_id, directory_url) DO NOTHING`,
          [domain.organizationId, directoryUrl, settings?.email ?? null, this.box.encrypt(result.accountKeyPem, acmeAccountKeyAad(domain.organizationId, directoryUrl)), result.accountUrl],
        );
      }
      return await this.succeeded(domain, row, hosts, attemptAt, result.chainPem, result.keyPem, app);
    } catch (e) {
      const err = e instanceof AcmeOrderError ? e : new AcmeOrderError((e as Error).message, "other");
      return this.failed(domain, row, hosts, attemptAt, err.message, err.reason, err.retryAfterSeconds);
    }
  }

  private async createPending(domain: DomainEntity, hosts: string[]): Promise<CertificateEntity> {
    const now = new Date();
    const row = this.ds.manager.create(CertificateEntity, {
      id: newId(), organizationId: domain.organizationId, projectId: domain.projectId, environmentId: domain.environmentId, applicationId: domain.applicationId, domainId: domain.id,
      source: 'acme', hosts, status: 'pending', issuer: null, serial: null, notBefore: null, notAfter: null, chainPem: null, keyBox: null,
      lastAttemptAt: null, lastError: null, lastErrorReason: null, failures: 0, nextAttemptAt: null, expiryWarnedAt: null, createdAt: now, updatedAt: now, version: 1,
    });
    await this.ds.createQueryBuilder().insert().into(CertificateEntity).values(row).orIgnore().execute();
    return (await this.ds.manager.findOneBy(CertificateEntity, { domainId: domain.id }))!;
  }

  private async succeeded(domain: DomainEntity, row: CertificateEntity, hosts: string[], at: Date, chainPem: string, keyPem: string, app: ApplicationEntity): Promise<CertificateEntity> {
    const facts = describeLeaf(chainPem);
    const renewed = row.status === 'valid' || row.notAfter !== null;
    const saved = await this.tx.run(async (m: EntityManager, stage) => {
      const c = await m.findOne(CertificateEntity, { where: { id: row.id }, lock: { mode: 'pessimistic_write' } });
      if (!c || c.source === 'custom') return c;
      Object.assign(c, {
        hosts, status: 'valid', issuer: facts.issuer, serial: facts.serial, notBefore: facts.notBefore, notAfter: facts.notAfter, chainPem,
        keyBox: this.box.encrypt(keyPem, certificateKeyAad(c.id)), lastAttemptAt: at, lastError: null, lastErrorReason: null, failures: 0, nextAttemptAt: null, expiryWarnedAt: null,
        updatedAt: new Date(), version: c.version + 1,
      });
      await m.save(CertificateEntity, c);
      await stage({
        type: renewed ? 'certificate.renewed' : 'certificate.issued', organizationId: c.organizationId, actor: SYSTEM_ACTOR,
        subject: { type: 'certificate', id: domain.id, name: domain.host }, payload: this.payload(domain, c),
      }, { changes: { hosts, issuer: facts.issuer, serial: facts.serial, notAfter: facts.notAfter.toISOString(), renewalDueAt: renewalDueAt(facts.notBefore, facts.notAfter).toISOString() } });
      return c;
    });
    this.logger.log(`certificate for ${hosts.join(', ')} ${renewed ? 'renewed' : 'issued'} by ${facts.issuer}, valid until ${facts.notAfter.toISOString()}`);
    await this.routing.apply(app.id, app.serviceName);
    return saved!;
  }

  private async failed(domain: DomainEntity, row: CertificateEntity, hosts: string[], at: Date, message: string, reason: string, retryAfter: number | null): Promise<CertificateEntity> {
    this.logger.warn(`certificate for ${hosts.join(', ')} failed (${reason}): ${message}`);
    return (await this.tx.run(async (m, stage) => {
      const c = await m.findOne(CertificateEntity, { where: { id: row.id }, lock: { mode: 'pessimistic_write' } });
      if (!c) return null;
      const failures = c.failures + 1;
      // A certificate still valid keeps being served: only the attempt failed.
      const stillValid = c.status === 'valid' && c.notAfter !== null && c.notAfter > at;
      Object.assign(c, {
        status: stillValid ? 'valid' : 'failed', lastAttemptAt: at, lastError: message.slice(0, 2000), lastErrorReason: reason, failures,
        nextAttemptAt: nextAttemptAfter(failures, at, retryAfter), updatedAt: new Date(), version: c.version + 1,
      });
      await m.save(CertificateEntity, c);
      await stage({
        type: 'certificate.failed', organizationId: c.organizationId, actor: SYSTEM_ACTOR,
        subject: { type: 'certificate', id: domain.id, name: domain.host }, payload: { ...this.payload(domain, c), reason },
      }, { changes: { hosts, reason, error: c.lastError, nextAttemptAt: c.nextAttemptAt!.toISOString() } });
      return c;
    }))!;
  }
}
