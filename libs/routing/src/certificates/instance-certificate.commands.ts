/**
 * The certificate of Wharf's own host, for instance administrators: its state (GET /instance/tls) and "renew now".
 * The worker (InstanceTls) does the work; these only read the row and record the request (an audited event whose
 * listener queues the forced run). Organization members who are not instance administrators get 403.
 */
import { Command, CommandHandler, ICommandHandler, IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ConflictError, DomainEventOf, ForbiddenError, JobProducer, OnDomainEvent, TransactionRunner, WHARF_CONFIG, WharfConfig } from '@wharf/core';
import { actorOf, Principal } from '@wharf/tenancy';
import { InstanceCertificateEntity, renewalDueAt } from './certificate.entity';

export interface InstanceTlsView {
  /** Wharf's own host (from an https WHARF_PUBLIC_URL on a domain name); null: Wharf is not behind the edge. */
  host: string | null;
  /** off: no such host; custom: WHARF_TLS_CERT_FILE/KEY_FILE; acme: ordered over HTTP-01. */
  mode: 'off' | 'acme' | 'custom';
  status: 'none' | 'pending' | 'valid' | 'failed';
  issuer: string | null;
  notBefore: string | null;
  notAfter: string | null;
  renewalDueAt: string | null;
  lastAttemptAt: string | null;
  lastError: string | null;
  lastErrorReason: string | null;
  nextAttemptAt: string | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function requireInstanceAdmin(p: Principal): void {
  if (!p.isInstanceAdmin || p.kind !== 'user') throw new ForbiddenError("Only instance administrators manage Wharf's own certificate", 'instance-admin-only');
}

const modeOf = (c: WharfConfig): InstanceTlsView['mode'] => (!c.instanceTls.host ? 'off' : c.instanceTls.certFile ? 'custom' : 'acme');

export class GetInstanceTlsQuery extends Query<InstanceTlsView> {
  constructor(readonly principal: Principal) {
    super();
  }
}
@QueryHandler(GetInstanceTlsQuery)
export class GetInstanceTlsHandler implements IQueryHandler<GetInstanceTlsQuery> {
  constructor(private readonly ds: DataSource, @Inject(WHARF_CONFIG) private readonly config: WharfConfig) {}
  async execute({ principal: p }: GetInstanceTlsQuery): Promise<InstanceTlsView> {
    requireInstanceAdmin(p);
    const host = this.config.instanceTls.host;
    const c = host ? await this.ds.manager.findOneBy(InstanceCertificateEntity, { host }) : null;
    return {
      host, mode: modeOf(this.config), status: c?.status ?? 'none', issuer: c?.issuer ?? null, notBefore: iso(c?.notBefore ?? null), notAfter: iso(c?.notAfter ?? null),
      renewalDueAt: c?.notBefore && c.notAfter ? renewalDueAt(c.notBefore, c.notAfter).toISOString() : null,
      lastAttemptAt: iso(c?.lastAttemptAt ?? null), lastError: c?.lastError ?? null, lastErrorReason: c?.lastErrorReason ?? null, nextAttemptAt: iso(c?.nextAttemptAt ?? null),
    };
  }
}

export class RenewInstanceCertificateCommand extends Command<{ queued: true }> {
  constructor(readonly principal: Principal) {
    super();
  }
}
/** "Renew now" (or re-read the certificate files): clears the backoff and queues a forced run of the worker's job. */
@CommandHandler(RenewInstanceCertificateCommand)
export class RenewInstanceCertificateHandler implements ICommandHandler<RenewInstanceCertificateCommand> {
  constructor(private readonly tx: TransactionRunner, @Inject(WHARF_CONFIG) private readonly config: WharfConfig) {}
  async execute({ principal: p }: RenewInstanceCertificateCommand) {
    requireInstanceAdmin(p);
    const host = this.config.instanceTls.host;
    if (!host) throw new ConflictError('Wharf is not behind the edge: set WHARF_PUBLIC_URL to https://<its domain name>', 'instance-tls-off');
    return this.tx.run(async (m, stage) => {
      const c = await m.findOne(InstanceCertificateEntity, { where: { host }, lock: { mode: 'pessimistic_write' } });
      if (c) await m.update(InstanceCertificateEntity, { host }, { nextAttemptAt: null, updatedAt: new Date() });
      await stage(
        { type: 'instance-certificate.renew-requested', organizationId: null, actor: actorOf(p), subject: { type: 'instance-certificate', id: null, name: host }, payload: { host, notAfter: iso(c?.notAfter ?? null) } },
        { request: p.client },
      );
      return { queued: true as const };
    });
  }
}

/**
 * Queues the worker's run: forced for a "renew now" (one job per request event), and once the first-run setup is done
 * (the worker's run at start found no install yet, and the repeating run is ten minutes away).
 */
@Injectable()
export class InstanceCertificateListener {
  constructor(private readonly jobs: JobProducer, @Inject(WHARF_CONFIG) private readonly config: WharfConfig) {}

  @OnDomainEvent('instance.setup-completed')
  async setUp(e: DomainEventOf<'instance.setup-completed'>): Promise<void> {
    if (!this.config.instanceTls.host) return;
    await this.jobs.enqueue('instance.tls', { v: 1 }, { jobId: `instance-tls:${e.id}`, attempts: 1, removeOnComplete: 100, removeOnFail: 100 });
  }

  @OnDomainEvent('instance-certificate.renew-requested')
  async requested(e: DomainEventOf<'instance-certificate.renew-requested'>): Promise<void> {
    await this.jobs.enqueue('instance.tls', { v: 1, force: true }, { jobId: `instance-tls:${e.id}`, attempts: 1, removeOnComplete: 100, removeOnFail: 100 });
  }
}
