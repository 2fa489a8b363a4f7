/**
 * Certificates of domains: read (per application, per organization), "renew now", upload a custom certificate,
 * remove it (back to ACME), the DNS check shown beside a domain, and the organization's ACME settings. Reads go through
 * TenantScope with the application's permissions like domains (reading needs `application:read`, changing
 * `application:update`); ACME settings are the organization's (`organization:read`/`update`). Keys are encrypted with
 * the instance key and never leave this module; views, events and audit entries carry names, dates and issuers only.
 */
import { Command, CommandHandler, ICommandHandler, IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { Inject } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ConflictError, newId, SecretBox, TransactionRunner, ValidationError, WHARF_CONFIG, WharfConfig } from '@wharf/core';
import { actorOf, OrganizationEntity, Principal, TenantScope } from '@wharf/tenancy';
import { ApplicationEntity } from '@wharf/applications';
import { DomainEntity } from '../domains/domain.entity';
import { alternateWwwHost } from '../traefik/traefik-config';
import { validateDnsProviderConfig } from '@wharf/contracts';
import { AcmeSettingsEntity, CertificateEntity, certificateKeyAad, dnsProviderAad, renewalDueAt } from './certificate.entity';
import { checkDns, checkUploadedCertificate, DnsCheck, dnsProblem } from './certificate-checks';

export interface CertificateView {
  id: string;
  domainId: string;
  applicationId: string;
  projectId: string;
  environmentId: string;
  hosts: string[];
  source: 'acme' | 'custom';
  status: 'pending' | 'valid' | 'failed';
  issuer: string | null;
  serial: string | null;
  notBefore: string | null;
  notAfter: string | null;
  /** When Wharf renews it (ACME) or starts warning (custom). */
  renewalDueAt: string | null;
  lastAttemptAt: string | null;
  lastError: string | null;
  lastErrorReason: string | null;
  nextAttemptAt: string | null;
  updatedAt: string;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);
export function certificateView(c: CertificateEntity): CertificateView {
  return {
    id: c.id, domainId: c.domainId, applicationId: c.applicationId, projectId: c.projectId, environmentId: c.environmentId, hosts: [...c.hosts],
    source: c.source, status: c.status, issuer: c.issuer, serial: c.serial, notBefore: iso(c.notBefore), notAfter: iso(c.notAfter),
    renewalDueAt: c.notBefore && c.notAfter ? renewalDueAt(c.notBefore, c.notAfter).toISOString() : null,
    lastAttemptAt: iso(c.lastAttemptAt), lastError: c.lastError, lastErrorReason: c.lastErrorReason, nextAttemptAt: iso(c.nextAttemptAt), updatedAt: c.updatedAt.toISOString(),
  };
}

/** The names one domain's certificate covers: its host, and the other www form when it redirects between them. */
export const certificateHostsOf = (d: Pick<DomainEntity, 'host' | 'options'>): string[] => [d.host, ...(d.options.wwwRedirect ? [alternateWwwHost(d.host)] : [])];

const subjectOf = (d: DomainEntity) => ({ type: 'certificate', id: d.id, name: d.host });
const payloadOf = (d: DomainEntity, c?: { hosts: string[]; notAfter: Date | null }) => ({
  applicationId: d.applicationId, projectId: d.projectId, environmentId: d.environmentId, domainId: d.id, hosts: c?.hosts ?? certificateHostsOf(d), notAfter: iso(c?.notAfter ?? null),
});

export class ListApplicationCertificatesQuery extends Query<CertificateView[]> {
  constructor(readonly principal: Principal, readonly applicationId: string) {
    super();
  }
}
@QueryHandler(ListApplicationCertificatesQuery)
export class ListApplicationCertificatesHandler implements IQueryHandler<ListApplicationCertificatesQuery> {
  constructor(private readonly scope: TenantScope) {}
  async execute({ principal: p, applicationId }: ListApplicationCertificatesQuery) {
    const app = await this.scope.findOne(p, ApplicationEntity, 'application', applicationId);
    const rows = await this.scope.query(p, CertificateEntity, 'application').andWhere('x.application_id = :a', { a: app.id }).orderBy('x.created_at', 'ASC').getMany();
    return rows.map(certificateView);
  }
}

export class ListOrganizationCertificatesQuery extends Query<CertificateView[]> {
  constructor(readonly principal: Principal, readonly organizationId: string) {
    super();
  }
}
@QueryHandler(ListOrganizationCertificatesQuery)
export class ListOrganizationCertificatesHandler implements IQueryHandler<ListOrganizationCertificatesQuery> {
  constructor(private readonly scope: TenantScope) {}
  async execute({ principal: p, organizationId }: ListOrganizationCertificatesQuery) {
    this.scope.assertOrganizationReadable(p, organizationId);
    // Soonest expiry first: what needs attention is at the top.
    const rows = await this.scope.query(p, CertificateEntity, 'application').andWhere('x.organization_id = :o', { o: organizationId }).orderBy('x.not_after', 'ASC', 'NULLS FIRST').addOrderBy('x.id', 'ASC').limit(1000).getMany();
    return rows.map(certificateView);
  }
}

export class GetDomainDnsCheckQuery extends Query<DnsCheck & { problem: { reason: string; message: string } | null }> {
  constructor(readonly principal: Principal, readonly domainId: string) {
    super();
  }
}
@QueryHandler(GetDomainDnsCheckQuery)
export class GetDomainDnsCheckHandler implements IQueryHandler<GetDomainDnsCheckQuery> {
  constructor(private readonly scope: TenantScope, private readonly ds: DataSource, @Inject(WHARF_CONFIG) private readonly config: WharfConfig) {}
  async execute({ principal: p, domainId }: GetDomainDnsCheckQuery) {
    const d = await this.scope.findOne(p, DomainEntity, 'application', domainId, 'read', { what: 'Domain' });
    const { publicIps, dnsServers, caaIdentities } = this.config.acme;
    const check = await checkDns(d.host, { servers: dnsServers, publicIps, caaIdentities });
    // Judged by the organization's challenge, as the issuer will: DNS-01 needs no address pointing here.
    const settings = await this.ds.manager.findOneBy(AcmeSettingsEntity, { organizationId: d.organizationId });
    return { ...check, problem: dnsProblem(check, settings?.challenge ?? 'http-01') };
  }
}

/** The domain (changeable by the caller) with its application, refusing one whose application is being deleted. */
async function changeableDomain(scope: TenantScope, p: Principal, domainId: string): Promise<DomainEntity> {
  const d = await scope.findOne(p, DomainEntity, 'application', domainId, 'read', { what: 'Domain' });
  const app = await scope.findOne(p, ApplicationEntity, 'application', d.applicationId, 'update');
  if (app.deleting) throw new ConflictError('The application is being deleted', 'application-deleting');
  return d;
}

export class RenewCertificateCommand extends Command<{ queued: true }> {
  constructor(readonly principal: Principal, readonly domainId: string) {
    super();
  }
}
/** "Renew now": queues an ACME order for the domain at once (a failed one's backoff is cleared). */
@CommandHandler(RenewCertificateCommand)
export class RenewCertificateHandler implements ICommandHandler<RenewCertificateCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope) {}
  async execute({ principal: p, domainId }: RenewCertificateCommand) {
    const d = await changeableDomain(this.scope, p, domainId);
    if (!d.options.https) throw new ConflictError('HTTPS is off for this domain: turn it on to get a certificate', 'https-off');
    return this.tx.run(async (m, stage) => {
      const c = await m.findOne(CertificateEntity, { where: { domainId: d.id }, lock: { mode: 'pessimistic_write' } });
      if (c?.source === 'custom') throw new ConflictError('This domain uses an uploaded certificate: remove it to go back to ACME', 'custom-certificate');
      if (c) await m.update(CertificateEntity, { id: c.id }, { nextAttemptAt: null, updatedAt: new Date() });
      await stage({ type: 'certificate.renew-requested', organizationId: d.organizationId, actor: actorOf(p), subject: subjectOf(d), payload: payloadOf(d, c ?? undefined) }, { request: p.client });
      return { queued: true as const };
    });
  }
}

export class UploadCertificateCommand extends Command<CertificateView> {
  constructor(readonly principal: Principal, readonly domainId: string, readonly body: { certificatePem?: unknown; privateKeyPem?: unknown }) {
    super();
  }
}
/** A custom certificate replaces ACME for the domain; it is checked (key, chain, names, dates) before it is stored. */
@CommandHandler(UploadCertificateCommand)
export class UploadCertificateHandler implements ICommandHandler<UploadCertificateCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope, private readonly box: SecretBox) {}
  async execute({ principal: p, domainId, body }: UploadCertificateCommand) {
    const d = await changeableDomain(this.scope, p, domainId);
    const hosts = certificateHostsOf(d);
    const { chainPem, keyPem, facts } = checkUploadedCertificate({ certificatePem: body.certificatePem, privateKeyPem: body.privateKeyPem, hosts });
    return this.tx.run(async (m, stage) => {
      // The worker may be creating the domain's ACME row right now (its first order): make sure one row exists, then
      // lock and replace it, instead of racing it to the unique domain index.
      await m.query(
        `INSERT INTO certificates (id, organization_id, project_id, environment_id, application_id, domain_id, source, hosts, status)
         VALUES ($1, $2, $3, $4, $5, $6, 'custom', $7, 'pending') ON CONFLICT (domain_id) DO NOTHING`,
        [newId(), d.organizationId, d.projectId, d.environmentId, d.applicationId, d.id, hosts],
      );
      const existing = await m.findOne(CertificateEntity, { where: { domainId: d.id }, lock: { mode: 'pessimistic_write' } });
      const id = existing?.id ?? newId();
      const now = new Date();
      const row = m.create(CertificateEntity, {
        ...(existing ?? {}), id, organizationId: d.organizationId, projectId: d.projectId, environmentId: d.environmentId, applicationId: d.applicationId, domainId: d.id,
        source: 'custom', hosts, status: 'valid', issuer: facts.issuer, serial: facts.serial, notBefore: facts.notBefore, notAfter: facts.notAfter,
        chainPem, keyBox: this.box.encrypt(keyPem, certificateKeyAad(id)), lastAttemptAt: now, lastError: null, lastErrorReason: null, failures: 0, nextAttemptAt: null,
        expiryWarnedAt: null, createdAt: existing?.createdAt ?? now, updatedAt: now, version: (existing?.version ?? 0) + 1,
      });
      await m.save(CertificateEntity, row);
      await stage(
        { type: 'certificate.uploaded', organizationId: d.organizationId, actor: actorOf(p), subject: subjectOf(d), payload: payloadOf(d, row) },
        { request: p.client, changes: { hosts, issuer: facts.issuer, serial: facts.serial, notAfter: facts.notAfter.toISOString() } },
      );
      return certificateView(row);
    });
  }
}

export class RemoveCertificateCommand extends Command<void> {
  constructor(readonly principal: Principal, readonly domainId: string) {
    super();
  }
}
/** Removes the domain's certificate; with HTTPS on, Wharf then orders one from ACME. */
@CommandHandler(RemoveCertificateCommand)
export class RemoveCertificateHandler implements ICommandHandler<RemoveCertificateCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope) {}
  async execute({ principal: p, domainId }: RemoveCertificateCommand) {
    const d = await changeableDomain(this.scope, p, domainId);
    await this.tx.run(async (m, stage) => {
      const c = await m.findOne(CertificateEntity, { where: { domainId: d.id }, lock: { mode: 'pessimistic_write' } });
      if (!c) throw new ConflictError('This domain has no certificate', 'no-certificate');
      await m.delete(CertificateEntity, { id: c.id });
      await stage({ type: 'certificate.removed', organizationId: d.organizationId, actor: actorOf(p), subject: subjectOf(d), payload: payloadOf(d, c) }, { request: p.client, changes: { source: c.source, hosts: c.hosts } });
    });
  }
}

export interface AcmeSettingsView {
  email: string | null;
  staging: boolean;
  directoryUrl: string;
  challenge: 'http-01' | 'dns-01';
  /** The DNS provider without its secrets (TSIG secret, API token, secret access key). */
  dnsProvider: Record<string, unknown> | null;
}
const DNS_SECRETS = new Set(['tsigSecret', 'apiToken', 'secretAccessKey']);
export class GetAcmeSettingsQuery extends Query<AcmeSettingsView> {
  constructor(readonly principal: Principal, readonly organizationId: string) {
    super();
  }
}
@QueryHandler(GetAcmeSettingsQuery)
export class GetAcmeSettingsHandler implements IQueryHandler<GetAcmeSettingsQuery> {
  constructor(private readonly scope: TenantScope, private readonly ds: DataSource, private readonly box: SecretBox, @Inject(WHARF_CONFIG) private readonly config: WharfConfig) {}
  async execute({ principal: p, organizationId }: GetAcmeSettingsQuery) {
    const org = await this.scope.findOne(p, OrganizationEntity, 'organization', organizationId);
    const s = await this.ds.manager.findOneBy(AcmeSettingsEntity, { organizationId: org.id });
    return acmeSettingsView(s, this.config, this.box);
  }
}
export function acmeSettingsView(s: AcmeSettingsEntity | null, config: WharfConfig, box: SecretBox): AcmeSettingsView {
  let dnsProvider: Record<string, unknown> | null = null;
  if (s?.dnsProviderBox) {
    const full = JSON.parse(box.decrypt(s.dnsProviderBox, dnsProviderAad(s.organizationId))) as Record<string, unknown>;
    dnsProvider = Object.fromEntries(Object.entries(full).map(([k, v]) => [k, DNS_SECRETS.has(k) ? { set: true } : v]));
  }
  return {
    email: s?.email ?? null,
    staging: s?.staging ?? false,
    directoryUrl: s?.staging ? config.acme.stagingDirectoryUrl : config.acme.directoryUrl,
    challenge: s?.challenge ?? 'http-01',
    dnsProvider,
  };
}

export class UpdateAcmeSettingsCommand extends Command<AcmeSettingsView> {
  constructor(readonly principal: Principal, readonly organizationId: string, readonly body: { email?: unknown; staging?: unknown; challenge?: unknown; dnsProvider?: unknown }) {
    super();
  }
}
const EMAIL = /^[^\s@<>()\[\],;:"\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
@CommandHandler(UpdateAcmeSettingsCommand)
export class UpdateAcmeSettingsHandler implements ICommandHandler<UpdateAcmeSettingsCommand> {
  constructor(private readonly tx: TransactionRunner, private readonly scope: TenantScope, private readonly box: SecretBox, @Inject(WHARF_CONFIG) private readonly config: WharfConfig) {}
  async execute({ principal: p, organizationId, body }: UpdateAcmeSettingsCommand) {
    const org = await this.scope.findOne(p, OrganizationEntity, 'organization', organizationId, 'update');
    if (body.email !== undefined && body.email !== null && (typeof body.email !== 'string' || body.email.length > 254 || !EMAIL.test(body.email))) {
      throw ValidationError.field('/email', 'format', 'must be an e-mail address (the ACME account contact) or null');
    }
    if (body.staging !== undefined && typeof body.staging !== 'boolean') throw ValidationError.field('/staging', 'type', 'must be true or false');
    if (body.challenge !== undefined && body.challenge !== 'http-01' && body.challenge !== 'dns-01') throw ValidationError.field('/challenge', 'enum', 'must be http-01 or dns-01');
    let providerJson: string | null | undefined;
    if (body.dnsProvider === null) providerJson = null;
    else if (body.dnsProvider !== undefined) {
      const v = validateDnsProviderConfig(body.dnsProvider);
      if (!v.ok) {
        const errors = v.errors.map((e) => ({ pointer: `/dnsProvider${e.field ? '/' + e.field.replace(/\./g, '/') : ''}`, code: 'invalid', detail: e.message }));
        throw new ValidationError(errors.map((e) => `${e.pointer}: ${e.detail}`).join('; '), errors);
      }
      providerJson = JSON.stringify(v.value);
    }
    return this.tx.run(async (m, stage) => {
      const before = await m.findOneBy(AcmeSettingsEntity, { organizationId: org.id });
      const next = m.create(AcmeSettingsEntity, {
        organizationId: org.id,
        email: body.email === undefined ? (before?.email ?? null) : (body.email as string | null),
        staging: body.staging === undefined ? (before?.staging ?? false) : (body.staging as boolean),
        challenge: body.challenge === undefined ? (before?.challenge ?? 'http-01') : (body.challenge as 'http-01' | 'dns-01'),
        dnsProviderBox: providerJson === undefined ? (before?.dnsProviderBox ?? null) : providerJson === null ? null : this.box.encrypt(providerJson, dnsProviderAad(org.id)),
        updatedAt: new Date(),
      });
      if (next.challenge === 'dns-01' && !next.dnsProviderBox) throw ValidationError.field('/dnsProvider', 'required', 'DNS-01 needs a DNS provider');
      await m.save(AcmeSettingsEntity, next);
      const changes: Record<string, unknown> = {};
      if ((before?.email ?? null) !== next.email) changes.email = { from: before?.email ?? null, to: next.email };
      if ((before?.staging ?? false) !== next.staging) changes.staging = { from: before?.staging ?? false, to: next.staging };
      if ((before?.challenge ?? 'http-01') !== next.challenge) changes.challenge = { from: before?.challenge ?? 'http-01', to: next.challenge };
      // The provider's kind only: its configuration holds credentials.
      if (providerJson !== undefined) changes.dnsProvider = providerJson === null ? null : { kind: (JSON.parse(providerJson) as { kind: string }).kind };
      await stage({ type: 'acme-settings.updated', organizationId: org.id, actor: actorOf(p), subject: { type: 'organization', id: org.id, name: org.name }, payload: {} }, { request: p.client, changes });
      return acmeSettingsView(next, this.config, this.box);
    });
  }
}

/** The key authorization the API answers for an HTTP-01 token (null: unknown or expired). Public by design. */
export class AcmeChallengeAnswerQuery extends Query<string | null> {
  constructor(readonly token: string) {
    super();
  }
}
@QueryHandler(AcmeChallengeAnswerQuery)
export class AcmeChallengeAnswerHandler implements IQueryHandler<AcmeChallengeAnswerQuery> {
  constructor(private readonly ds: DataSource) {}
  async execute({ token }: AcmeChallengeAnswerQuery) {
    if (!/^[A-Za-z0-9_-]{1,256}$/.test(token)) return null;
    const [row]: Array<{ key_authorization: string }> = await this.ds.query(`SELECT key_authorization FROM acme_challenges WHERE token = $1 AND expires_at > now()`, [token]);
    return row?.key_authorization ?? null;
  }
}
