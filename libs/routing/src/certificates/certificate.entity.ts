import { Column, Entity, PrimaryColumn } from 'typeorm';

export type CertificateSource = 'acme' | 'custom';
export type CertificateStatus = 'pending' | 'valid' | 'failed';

/**
 * What every certificate row holds: where it came from, its state, the PEM chain and the encrypted key, and the last
 * attempt with its error, reason and backoff (domains' certificates and Wharf's own share these columns).
 */
export abstract class CertificateStateColumns {
  @Column('text') source: CertificateSource;
  @Column('text') status: CertificateStatus;
  @Column({ type: 'text', nullable: true }) issuer: string | null;
  @Column({ type: 'text', nullable: true }) serial: string | null;
  @Column({ name: 'not_before', type: 'timestamptz', nullable: true }) notBefore: Date | null;
  @Column({ name: 'not_after', type: 'timestamptz', nullable: true }) notAfter: Date | null;
  @Column({ name: 'chain_pem', type: 'text', nullable: true }) chainPem: string | null;
  @Column({ name: 'key_box', type: 'text', nullable: true }) keyBox: string | null;
  @Column({ name: 'last_attempt_at', type: 'timestamptz', nullable: true }) lastAttemptAt: Date | null;
  @Column({ name: 'last_error', type: 'text', nullable: true }) lastError: string | null;
  @Column({ name: 'last_error_reason', type: 'text', nullable: true }) lastErrorReason: string | null;
  @Column({ type: 'int', default: 0 }) failures: number;
  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true }) nextAttemptAt: Date | null;
}

/** The certificate of one domain (ACME-issued or uploaded). The key is encrypted (`keyBox`) and never returned. */
@Entity('certificates')
export class CertificateEntity extends CertificateStateColumns {
  @PrimaryColumn('uuid') id: string;
  @Column({ name: 'organization_id', type: 'uuid' }) organizationId: string;
  @Column({ name: 'project_id', type: 'uuid' }) projectId: string;
  @Column({ name: 'environment_id', type: 'uuid' }) environmentId: string;
  @Column({ name: 'application_id', type: 'uuid' }) applicationId: string;
  @Column({ name: 'domain_id', type: 'uuid' }) domainId: string;
  @Column('text', { array: true }) hosts: string[];
  @Column({ name: 'expiry_warned_at', type: 'timestamptz', nullable: true }) expiryWarnedAt: Date | null;
  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' }) createdAt: Date;
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' }) updatedAt: Date;
  @Column({ type: 'int', default: 1 }) version: number;
}

@Entity('acme_settings')
export class AcmeSettingsEntity {
  @PrimaryColumn({ name: 'organization_id', type: 'uuid' }) organizationId: string;
  @Column({ type: 'text', nullable: true }) email: string | null;
  @Column({ type: 'boolean', default: false }) staging: boolean;
  @Column({ type: 'text', default: 'http-01' }) challenge: 'http-01' | 'dns-01';
  /** The DNS provider's configuration (credentials included) as JSON, encrypted; aad {@link dnsProviderAad}. */
  @Column({ name: 'dns_provider_box', type: 'text', nullable: true }) dnsProviderBox: string | null;
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' }) updatedAt: Date;
}

/** AAD of the encrypted keys: a key box moved to another row does not decrypt. */
export const certificateKeyAad = (certificateId: string) => `certificate:${certificateId}`;
export const dnsProviderAad = (organizationId: string) => `dns-provider:${organizationId}`;
export const acmeAccountKeyAad = (organizationId: string, directoryUrl: string) => `acme-account:${organizationId}:${directoryUrl}`;

/** Renew when less than this is left: 30 days, or a third of the lifetime for short-lived certificates. */
export function renewalDueAt(notBefore: Date, notAfter: Date): Date {
  const lifetime = notAfter.getTime() - notBefore.getTime();
  const before = Math.min(30 * 86_400_000, Math.floor(lifetime / 3));
  return new Date(notAfter.getTime() - before);
}

/** The certificate of Wharf's own host (see the InstanceCertificates migration); the key is encrypted and never returned. */
@Entity('instance_certificates')
export class InstanceCertificateEntity extends CertificateStateColumns {
  @PrimaryColumn('text') host: string;
  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' }) updatedAt: Date;
}

export const instanceCertificateKeyAad = (host: string) => `instance-certificate:${host}`;
export const instanceAcmeAccountKeyAad = (directoryUrl: string) => `instance-acme-account:${directoryUrl}`;
