import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsObject, IsOptional, IsString, Length, MaxLength } from 'class-validator';

const ROLE_HELP = 'A built-in role (owner, admin, developer, viewer) or the id of a custom role; never above your own role';

export class CreateOidcProviderDto {
  @ApiProperty({ description: 'Shown on the sign-in button' }) @IsString() @Length(1, 100) name: string;
  @ApiProperty({ description: 'Issuer URL (https; http only outside production or on localhost)', example: 'https://accounts.example.com' }) @IsString() @Length(1, 2000) issuerUrl: string;
  @ApiProperty() @IsString() @Length(1, 500) clientId: string;
  @ApiProperty({ description: 'Stored encrypted; never returned (responses show clientSecretSet)', writeOnly: true }) @IsString() @Length(1, 2000) clientSecret: string;
  @ApiPropertyOptional({ type: [String], description: 'Must include openid; default openid email profile' }) @IsOptional() @IsArray() @ArrayMaxSize(50) @IsString({ each: true }) scopes?: string[];
  @ApiPropertyOptional({ type: [String], description: 'Email domains allowed to sign in; empty = any' }) @IsOptional() @IsArray() @ArrayMaxSize(100) @IsString({ each: true }) allowedDomains?: string[];
  @ApiPropertyOptional({ nullable: true, type: String, description: 'Claim whose value(s) pick the role of a new member, e.g. groups (dots address nested claims)' }) @IsOptional() @IsString() @MaxLength(200) roleClaim?: string | null;
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, description: `claim value → role. ${ROLE_HELP}` }) @IsOptional() @IsObject() roleMapping?: Record<string, string>;
  @ApiPropertyOptional({ description: `Role when no mapping matches (default viewer). ${ROLE_HELP}` }) @IsOptional() @IsString() @MaxLength(100) defaultRole?: string;
  @ApiPropertyOptional({ default: true }) @IsOptional() @IsBoolean() enabled?: boolean;
}

export class UpdateOidcProviderDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 100) name?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 2000) issuerUrl?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 500) clientId?: string;
  @ApiPropertyOptional({ writeOnly: true, description: 'Replaces the stored secret' }) @IsOptional() @IsString() @Length(1, 2000) clientSecret?: string;
  @ApiPropertyOptional({ type: [String] }) @IsOptional() @IsArray() @ArrayMaxSize(50) @IsString({ each: true }) scopes?: string[];
  @ApiPropertyOptional({ type: [String] }) @IsOptional() @IsArray() @ArrayMaxSize(100) @IsString({ each: true }) allowedDomains?: string[];
  @ApiPropertyOptional({ nullable: true, type: String }) @IsOptional() @IsString() @MaxLength(200) roleClaim?: string | null;
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } }) @IsOptional() @IsObject() roleMapping?: Record<string, string>;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(100) defaultRole?: string;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() enabled?: boolean;
}

export class OidcProviderDto {
  @ApiProperty() id: string;
  @ApiProperty() organizationId: string;
  @ApiProperty() name: string;
  @ApiProperty() issuerUrl: string;
  @ApiProperty() clientId: string;
  @ApiProperty({ description: 'Whether a client secret is stored (the secret is never returned)' }) clientSecretSet: boolean;
  @ApiProperty({ type: [String] }) scopes: string[];
  @ApiProperty({ type: [String] }) allowedDomains: string[];
  @ApiProperty({ nullable: true, type: String }) roleClaim: string | null;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) roleMapping: Record<string, string>;
  @ApiProperty() defaultRole: string;
  @ApiProperty() enabled: boolean;
  @ApiProperty({ description: 'Register this redirect URI at the identity provider' }) redirectUri: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
  @ApiProperty() version: number;
}

export class PublicOidcProviderDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
}

export class PublicOidcProvidersQueryDto {
  @ApiProperty({ description: 'Organization slug' }) @IsString() @Length(1, 100) organization: string;
}
