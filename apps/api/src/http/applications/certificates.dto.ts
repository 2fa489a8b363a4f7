import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString } from 'class-validator';

export class CertificateDto {
  @ApiProperty() id: string;
  @ApiProperty() domainId: string;
  @ApiProperty() applicationId: string;
  @ApiProperty() projectId: string;
  @ApiProperty() environmentId: string;
  @ApiProperty({ type: [String], description: 'The names it covers (the host, and its www/apex form with wwwRedirect)' }) hosts: string[];
  @ApiProperty({ enum: ['acme', 'custom'] }) source: string;
  @ApiProperty({ enum: ['pending', 'valid', 'failed'], description: 'failed: the last attempt failed (a previous certificate, if any, is still served until it expires)' }) status: string;
  @ApiProperty({ type: String, nullable: true }) issuer: string | null;
  @ApiProperty({ type: String, nullable: true }) serial: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) notBefore: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) notAfter: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time', description: 'When Wharf renews it (ACME) or warns (custom)' }) renewalDueAt: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) lastAttemptAt: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'What went wrong at the last attempt, in words a user can act on' }) lastError: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'dns-missing, dns-mismatch, caa-forbidden, challenge-unreachable, challenge-failed, dns, rate-limited, rejected-identifier, ca-unreachable, timeout, other' }) lastErrorReason: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time', description: 'When a failed order is tried again' }) nextAttemptAt: string | null;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class UploadCertificateDto {
  @ApiProperty({ description: 'PEM: the certificate first, then each intermediate' }) @IsString() certificatePem: string;
  @ApiProperty({ description: 'PEM private key of the certificate (unencrypted); stored encrypted, never returned', format: 'password' }) @IsString() privateKeyPem: string;
}

export class RenewQueuedDto {
  @ApiProperty({ enum: [true] }) queued: true;
}

class CaaCheckDto {
  @ApiProperty() allowed: boolean;
  @ApiProperty({ type: String, nullable: true, description: 'The name whose CAA records decide' }) at: string | null;
  @ApiProperty({ type: [String] }) issuers: string[];
}
class DnsProblemDto {
  @ApiProperty({ enum: ['dns-missing', 'dns-mismatch', 'caa-forbidden'] }) reason: string;
  @ApiProperty() message: string;
}
export class DnsCheckDto {
  @ApiProperty() host: string;
  @ApiProperty({ type: [String] }) addresses: string[];
  @ApiProperty({ type: [String], description: "This install's addresses (WHARF_PUBLIC_IPS)" }) expected: string[];
  @ApiProperty({ type: Boolean, nullable: true, description: 'null when WHARF_PUBLIC_IPS is not set' }) pointsHere: boolean | null;
  @ApiProperty({ type: String, nullable: true }) resolveError: string | null;
  @ApiProperty({ type: CaaCheckDto }) caa: CaaCheckDto;
  @ApiProperty({ type: DnsProblemDto, nullable: true, description: 'Why an HTTP-01 certificate would fail now; null: nothing found' }) problem: DnsProblemDto | null;
}

export class AcmeSettingsDto {
  @ApiProperty({ type: String, nullable: true, description: 'Contact of the ACME account (expiry notices from the CA)' }) email: string | null;
  @ApiProperty({ description: "Use the CA's staging directory (untrusted test certificates, generous rate limits)" }) staging: boolean;
  @ApiProperty() directoryUrl: string;
  @ApiProperty({ enum: ['http-01', 'dns-01'] }) challenge: string;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true, description: 'The DNS provider for DNS-01, its secrets shown as {"set": true}' }) dnsProvider: Record<string, unknown> | null;
}
export class UpdateAcmeSettingsDto {
  @ApiPropertyOptional({ type: String, nullable: true }) @IsOptional() email?: string | null;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() staging?: boolean;
  @ApiPropertyOptional({ enum: ['http-01', 'dns-01'] }) @IsOptional() @IsString() challenge?: string;
  @ApiPropertyOptional({
    type: 'object', additionalProperties: true, nullable: true,
    description: 'DNS-01 provider: {kind: "rfc2136", server, port?, zone, tsigKeyName, tsigAlgorithm, tsigSecret} | {kind: "cloudflare", apiToken, zoneId?} | {kind: "route53", accessKeyId, secretAccessKey, hostedZoneId, region?}; stored encrypted; null removes it',
  })
  @IsOptional()
  dnsProvider?: Record<string, unknown> | null;
}

export class InstanceTlsDto {
  @ApiProperty({ type: String, nullable: true, description: "Wharf's own host (from an https WHARF_PUBLIC_URL on a domain name); null when Wharf is not behind the edge" }) host: string | null;
  @ApiProperty({ enum: ['off', 'acme', 'custom'], description: 'custom: WHARF_TLS_CERT_FILE/WHARF_TLS_KEY_FILE; acme: ordered over HTTP-01' }) mode: string;
  @ApiProperty({ enum: ['none', 'pending', 'valid', 'failed'] }) status: string;
  @ApiProperty({ type: String, nullable: true }) issuer: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) notBefore: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) notAfter: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) renewalDueAt: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) lastAttemptAt: string | null;
  @ApiProperty({ type: String, nullable: true }) lastError: string | null;
  @ApiProperty({ type: String, nullable: true }) lastErrorReason: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) nextAttemptAt: string | null;
}
