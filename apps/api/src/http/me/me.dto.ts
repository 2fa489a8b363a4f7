import { ApiProperty } from '@nestjs/swagger';
import { API_KEY_SCOPES } from '@wharf/contracts';

export class MeUserDto {
  @ApiProperty() id: string;
  @ApiProperty() email: string;
  @ApiProperty() name: string;
  @ApiProperty() twoFactorEnabled: boolean;
  @ApiProperty() isInstanceAdmin: boolean;
}
export class MeMembershipDto {
  @ApiProperty() organizationId: string;
  @ApiProperty({ description: 'owner, admin, developer, viewer or custom' }) role: string;
  @ApiProperty({ type: String, nullable: true }) customRoleId: string | null;
  @ApiProperty({ type: [String], nullable: true, description: 'null (and environmentIds null): every project' }) projectIds: string[] | null;
  @ApiProperty({ type: [String], nullable: true, description: 'Environments granted besides whole projects' }) environmentIds: string[] | null;
  @ApiProperty({ description: 'The organization requires 2FA and you have none: only organization:read applies' }) twoFactorRequired: boolean;
}
export class MeDto {
  @ApiProperty({ enum: ['user', 'api-key'] }) kind: 'user' | 'api-key';
  @ApiProperty({ type: MeUserDto, nullable: true, description: 'null for a service-account API key' }) user: MeUserDto | null;
  @ApiProperty({ type: String, nullable: true }) apiKeyId: string | null;
  @ApiProperty({ enum: API_KEY_SCOPES, isArray: true, nullable: true, description: 'An API key\'s scopes; null for a session' }) scopes: string[] | null;
  @ApiProperty({ type: [MeMembershipDto] }) memberships: MeMembershipDto[];
}
export class AbilitiesDto {
  @ApiProperty({ type: 'array', items: { type: 'array', items: {} }, description: "CASL packed rules (@casl/ability/extra packRules): [action, subject, conditions?, inverted?, fields?, reason?]" })
  rules: unknown[][];
}
export class SessionDto {
  @ApiProperty() id: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) lastUsedAt: string;
  @ApiProperty({ type: String, nullable: true }) ip: string | null;
  @ApiProperty({ type: String, nullable: true }) userAgent: string | null;
  @ApiProperty({ description: 'The session making this request' }) current: boolean;
}
export class TwoFactorSetupDto {
  @ApiProperty({ description: 'Base32 TOTP secret' }) secret: string;
  @ApiProperty({ description: 'otpauth:// URI for a QR code' }) otpauthUri: string;
}
export class RecoveryCodesDto {
  @ApiProperty({ type: [String], description: 'Ten one-time recovery codes, shown once' }) recoveryCodes: string[];
}
export class ApiKeyDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty({ description: 'The public part of the key (wk_<prefix>_…)' }) prefix: string;
  @ApiProperty({ enum: ['personal', 'service-account'] }) kind: 'personal' | 'service-account';
  @ApiProperty({ type: String, nullable: true }) organizationId: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'A service account\'s role' }) role: string | null;
  @ApiProperty({ type: String, nullable: true }) customRoleId: string | null;
  @ApiProperty({ enum: API_KEY_SCOPES, isArray: true }) scopes: string[];
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) expiresAt: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastUsedAt: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) revokedAt: string | null;
}
export class CreatedApiKeyDto extends ApiKeyDto {
  @ApiProperty({ description: 'The secret key, returned only this once' }) key: string;
}
