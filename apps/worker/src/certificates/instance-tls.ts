import { readFile } from 'node:fs/promises';
import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ACME_PORT, AcmeOrderError, AcmePort, PROXY_CONFIG_PORT, ProxyConfigPort } from '@wharf/orchestration';
import { JobHandler, SecretBox, TransactionRunner, WHARF_CONFIG, WharfConfig } from '@wharf/core';
import { SYSTEM_ACTOR } from '@wharf/tenancy';
import {
  checkDns,
  checkUploadedCertificate,
  describeLeaf,
  dnsProblem,
  INSTANCE_FILE_KEY,
  InstanceCertificateEntity,
  instanceAcmeAccountKeyAad,
  instanceCertificateKeyAad,
  renderInstanceConfig,
  renewalDueAt,
  toTraefikYaml,
} from '@wharf/routing';
import { CertificateFiles } from '../routing/application-routing';
import { EdgeProxy } from '../edge/edge-proxy';
import { AcmeHttp01 } from './acme-http01';
import { nextAttemptAfter } from './certificate-issuer';

const ORDER_DEADLINE_MS = 5 * 60_000;
const CERT_PREFIX = 'instance-';

export type InstanceTlsResult =
  | { kind: 'off' }
  | { kind: 'not-set-up' }
  | { kind: 'routed'; host: string; certificate: 'valid' | 'pending' | 'failed'; ordered: boolean };

/**
 * Wharf's own portal and API behind the edge, on the host of an https WHARF_PUBLIC_URL: the worker writes the
 * instance's Traefik file (the host → WHARF_INTERNAL_URL) and keeps its certificate valid, either from the files
 * WHARF_TLS_CERT_FILE/WHARF_TLS_KEY_FILE (checked like an uploaded certificate: key, chain, names, dates) or from ACME
 * over HTTP-01 with the install's own account (contact WHARF_ACME_EMAIL). Runs at start and every ten minutes; orders
 * when there is no valid certificate or it is due for renewal, with the same pre-checks, reasons and backoff as
 * domains' certificates, and records each outcome as an `instance-certificate.*` event (organization: none; audit
 * entries visible to instance administrators). With no https public URL on a domain name, the file is removed.
 */
@Injectable()
export class InstanceTls implements OnApplicationBootstrap {
  private readonly logger = new Logger('InstanceTls');
  private readonly certFiles: CertificateFiles;
  private running: Promise<InstanceTlsResult> | null = null;

  constructor(
    private readonly ds: DataSource,
    private readonly tx: TransactionRunner,
    private readonly box: SecretBox,
    private readonly http01: AcmeHttp01,
    private readonly edge: EdgeProxy,
    @Inject(ACME_PORT) private readonly acme: AcmePort,
    @Inject(PROXY_CONFIG_PORT) private readonly files: ProxyConfigPort,
    @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
  ) {
    this.certFiles = new CertificateFiles(config.traefikDir);
  }

  onApplicationBootstrap(): void {
    // Not awaited: an unreachable CA must not hold the worker's start. The repeating job retries.
    if (this.config.instanceTls.host) void this.sync().catch((e) => this.logger.warn(`Wharf's own host: ${(e as Error).message}`));
  }

  @JobHandler('instance.tls')
  async job(payload: { force?: boolean }): Promise<void> {
    await this.sync({ force: payload.force === true });
  }

  /** One run at a time in this process; a second caller gets the running one's result. */
  sync(options: { force?: boolean } = {}): Promise<InstanceTlsResult> {
    this.running ??= this.syncNow(options).finally(() => (this.running = null));
    return this.running;
  }

  private async syncNow({ force = false }: { force?: boolean }): Promise<InstanceTlsResult> {
    const host = this.config.instanceTls.host;
    const [instance]: Array<{ install_id: string }> = await this.ds.query(`SELECT install_id FROM instance WHERE id = 1`);
    if (!instance) return { kind: 'not-set-up' };
    if (!host) {
      await this.files.remove(INSTANCE_FILE_KEY).catch(() => false);
      await this.certFiles.syncPrefix(CERT_PREFIX, []);
      return { kind: 'off' };
    }
    if (this.config.edgeEnabled) await this.edge.ensureProxy(instance.install_id);

    let row = await this.row(host);
    let ordered = false;
    const now = new Date();
    // After a failure the next try waits for its backoff (a CA rate-limits failed validations; a bad file is not
    // re-reported every run), unless forced.
    const backedOff = !!row?.nextAttemptAt && row.nextAttemptAt > now && !force;
    if (this.config.instanceTls.certFile && this.config.instanceTls.keyFile) {
      if (!backedOff) row = await this.fromFiles(host, row);
    } else {
      const due = !row || row.source === 'custom' || row.status !== 'valid' || !row.notAfter || !row.notBefore || renewalDueAt(row.notBefore, row.notAfter) <= now;
      if (due && !backedOff) {
        row = await this.order(host, row);
        ordered = true;
      }
    }
    await this.write(instance.install_id, host, row);
    return { kind: 'routed', host, certificate: row?.status ?? 'pending', ordered };
  }

  private row(host: string): Promise<InstanceCertificateEntity | null> {
    return this.ds.manager.findOneBy(InstanceCertificateEntity, { host });
  }

  /** The Traefik file: routers for the host and, while valid, the certificate's files. */
  private async write(installId: string, host: string, row: InstanceCertificateEntity | null): Promise<void> {
    const valid = row && row.status === 'valid' && row.notAfter && row.notAfter > new Date() && row.chainPem && row.keyBox ? row : null;
    const [file] = await this.certFiles.syncPrefix(
      CERT_PREFIX,
      valid ? [{ id: 'host', serial: valid.serial ?? '0', chainPem: valid.chainPem!, keyPem: this.box.decrypt(valid.keyBox!, instanceCertificateKeyAad(host)) }] : [],
    );
    await this.files.write(INSTANCE_FILE_KEY, toTraefikYaml(renderInstanceConfig({ installId, host, apiUrl: this.config.acme.challengeUpstream, certificate: file ?? null })));
  }

  /** WHARF_TLS_CERT_FILE/KEY_FILE, checked like an upload; a bad pair is recorded as failed (the previous one stays if still valid). */
  private async fromFiles(host: string, row: InstanceCertificateEntity | null): Promise<InstanceCertificateEntity | null> {
    const at = new Date();
    try {
      const [certificatePem, privateKeyPem] = await Promise.all([readFile(this.config.instanceTls.certFile!, 'utf8'), readFile(this.config.instanceTls.keyFile!, 'utf8')]);
      const { chainPem, keyPem, facts } = checkUploadedCertificate({ certificatePem, privateKeyPem, hosts: [host], now: at });
      if (row?.source === 'custom' && row.status === 'valid' && row.chainPem === chainPem) return row;
      return await this.save(host, row, 'custom', { chainPem, keyPem, facts, at });
    } catch (e) {
      const detail = (e as { errors?: Array<{ detail: string }> }).errors?.[0]?.detail ?? (e as Error).message;
      return this.failed(host, row, at, `WHARF_TLS_CERT_FILE/WHARF_TLS_KEY_FILE: ${detail}`, 'custom-invalid', null, 'custom');
    }
  }

  private async order(host: string, row: InstanceCertificateEntity | null): Promise<InstanceCertificateEntity | null> {
    const at = new Date();
    const { publicIps, dnsServers, caaIdentities, directoryUrl } = this.config.acme;
    const problem = dnsProblem(await checkDns(host, { servers: dnsServers, publicIps, caaIdentities }), 'http-01');
    if (problem) return this.failed(host, row, at, problem.message, problem.reason, null, 'acme');
    await this.http01.ensureChallengeRouter();
    const [account]: Array<{ key_box: string; account_url: string | null }> = await this.ds.query(
      `SELECT key_box, account_url FROM instance_acme_accounts WHERE directory_url = $1`,
      [directoryUrl],
    );
    const email = this.config.instanceTls.email;
    try {
      const result = await this.acme.order({
        directoryUrl,
        accountKeyPem: account ? this.box.decrypt(account.key_box, instanceAcmeAccountKeyAad(directoryUrl)) : null,
        accountUrl: account?.account_url ?? null,
        email,
        hosts: [host],
        challenge: 'http-01',
        http01: this.http01.solver,
        deadlineMs: ORDER_DEADLINE_MS,
      });
      if (!account) {
        await this.ds.query(
          `INSERT INTO instance_acme_accounts (directory_url, email, key_box, account_url) VALUES ($1, $2, $3, $4) ON CONFLICT (directory_url) DO NOTHING`,
          [directoryUrl, email, this.box.encrypt(result.accountKeyPem, instanceAcmeAccountKeyAad(directoryUrl)), result.accountUrl],
        );
      }
      return await this.save(host, row, 'acme', { chainPem: result.chainPem, keyPem: result.keyPem, facts: describeLeaf(result.chainPem), at });
    } catch (e) {
      const err = e instanceof AcmeOrderError ? e : new AcmeOrderError((e as Error).message, 'other');
      return this.failed(host, row, at, err.message, err.reason, err.retryAfterSeconds, 'acme');
    }
  }

  private async save(
    host: string,
    row: InstanceCertificateEntity | null,
    source: 'acme' | 'custom',
    c: { chainPem: string; keyPem: string; facts: ReturnType<typeof describeLeaf>; at: Date },
  ): Promise<InstanceCertificateEntity> {
    const renewed = !!row?.notAfter;
    const saved = await this.tx.run(async (m, stage) => {
      const next = m.create(InstanceCertificateEntity, {
        host, source, status: 'valid', issuer: c.facts.issuer, serial: c.facts.serial, notBefore: c.facts.notBefore, notAfter: c.facts.notAfter, chainPem: c.chainPem,
        keyBox: this.box.encrypt(c.keyPem, instanceCertificateKeyAad(host)), lastAttemptAt: c.at, lastError: null, lastErrorReason: null, failures: 0, nextAttemptAt: null, updatedAt: new Date(),
      });
      await m.save(InstanceCertificateEntity, next);
      await stage(
        { type: renewed ? 'instance-certificate.renewed' : 'instance-certificate.issued', organizationId: null, actor: SYSTEM_ACTOR, subject: { type: 'instance-certificate', id: null, name: host }, payload: { host, notAfter: c.facts.notAfter.toISOString() } },
        { changes: { source, issuer: c.facts.issuer, serial: c.facts.serial, notAfter: c.facts.notAfter.toISOString() } },
      );
      return next;
    });
    this.logger.log(`certificate for Wharf's own host ${host} ${renewed ? 'renewed' : 'installed'} (${source}, ${c.facts.issuer}), valid until ${c.facts.notAfter.toISOString()}`);
    return saved;
  }

  private async failed(
    host: string,
    row: InstanceCertificateEntity | null,
    at: Date,
    message: string,
    reason: string,
    retryAfter: number | null,
    source: 'acme' | 'custom',
  ): Promise<InstanceCertificateEntity> {
    this.logger.warn(`certificate for Wharf's own host ${host} failed (${reason}): ${message}`);
    return this.tx.run(async (m, stage) => {
      const failures = (row?.failures ?? 0) + 1;
      const stillValid = row?.status === 'valid' && !!row.notAfter && row.notAfter > at;
      const next = m.create(InstanceCertificateEntity, {
        ...(row ?? { host, issuer: null, serial: null, notBefore: null, notAfter: null, chainPem: null, keyBox: null }),
        source: stillValid ? row!.source : source, status: stillValid ? 'valid' : 'failed', lastAttemptAt: at, lastError: message.slice(0, 2000), lastErrorReason: reason,
        failures, nextAttemptAt: nextAttemptAfter(failures, at, retryAfter), updatedAt: new Date(),
      });
      await m.save(InstanceCertificateEntity, next);
      // Repeated identical failures are one audit entry per backoff step, not one per ten-minute run: the backoff spaces them.
      await stage(
        { type: 'instance-certificate.failed', organizationId: null, actor: SYSTEM_ACTOR, subject: { type: 'instance-certificate', id: null, name: host }, payload: { host, notAfter: next.notAfter?.toISOString() ?? null, reason } },
        { changes: { reason, error: next.lastError, nextAttemptAt: next.nextAttemptAt!.toISOString() } },
      );
      return next;
    });
  }
}
