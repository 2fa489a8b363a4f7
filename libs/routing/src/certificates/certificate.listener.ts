import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DomainEventOf, JobProducer, OnDomainEvent } from '@wharf/core';
import { DomainEntity } from '../domains/domain.entity';
import { CertificateEntity } from './certificate.entity';
import { certificateHostsOf } from './certificate.commands';

/**
 * Orders a domain's certificate when it needs one: a domain with HTTPS added, or changed so that its certificate no
 * longer covers its names; "renew now"; an uploaded certificate removed. Only enqueues (deterministic job ids per
 * event, so a redelivered event orders once); the worker re-reads the domain and decides.
 */
@Injectable()
export class CertificateListener {
  constructor(private readonly jobs: JobProducer, private readonly ds: DataSource) {}

  @OnDomainEvent('domain.created', 'domain.updated')
  async domainChanged(e: DomainEventOf<'domain.created'> | DomainEventOf<'domain.updated'>): Promise<void> {
    const d = await this.ds.manager.findOneBy(DomainEntity, { id: e.subject.id! });
    if (!d || !d.options.https) return;
    const c = await this.ds.manager.findOneBy(CertificateEntity, { domainId: d.id });
    if (c?.source === 'custom') return;
    const want = certificateHostsOf(d).sort().join(',');
    if (c && c.status !== 'failed' && [...c.hosts].sort().join(',') === want) return;
    await this.order(d.id, e.id);
  }

  @OnDomainEvent('certificate.renew-requested', 'certificate.removed')
  async requested(e: DomainEventOf<'certificate.renew-requested'> | DomainEventOf<'certificate.removed'>): Promise<void> {
    const d = await this.ds.manager.findOneBy(DomainEntity, { id: e.payload.domainId });
    if (d?.options.https) await this.order(d.id, e.id);
  }

  /** Domain and certificate changes reach Traefik at once, not at the next deployment. */
  @OnDomainEvent('domain.created', 'domain.updated', 'domain.deleted', 'certificate.uploaded', 'certificate.removed')
  async reroute(e: { id: string; payload: { applicationId: string } }): Promise<void> {
    await this.jobs.enqueue('routing.apply', { v: 1, applicationId: e.payload.applicationId }, { jobId: `routing:${e.payload.applicationId}:${e.id}`, attempts: 3, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: 100, removeOnFail: 100 });
  }

  private order(domainId: string, eventId: string) {
    return this.jobs.enqueue('certificate.issue', { v: 1, domainId }, { jobId: `certificate:${domainId}:${eventId}`, attempts: 1, removeOnComplete: 100, removeOnFail: 100 });
  }
}
