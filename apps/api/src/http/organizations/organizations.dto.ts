import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsEmail, IsIn, IsInt, IsISO8601, IsOptional, IsString, IsUUID, Length, Max, MaxLength, Min } from 'class-validator';
import { ALL_PERMISSIONS, API_KEY_SCOPES, BUILTIN_ROLES } from '@wharf/contracts';

const ROLE_CHOICES = [...BUILTIN_ROLES, 'custom'];

export class CreateOrganizationDto {
  @ApiProperty() @IsString() @Length(1, 200) name: string;
}
export class UpdateOrganizationDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 200) name?: string;
  @ApiPropertyOptional({ description: 'Members must enable TOTP before they can act in this organization' }) @IsOptional() @IsBoolean() requireTwoFactor?: boolean;
  @ApiPropertyOptional({ minimum: 1, maximum: 3650 }) @IsOptional() @IsInt() @Min(1) @Max(3650) auditRetentionDays?: number;
  @ApiPropertyOptional({ minimum: 1, maximum: 3650, description: 'Deployment logs older than this are deleted (the deployments stay)' }) @IsOptional() @IsInt() @Min(1) @Max(3650) deploymentLogRetentionDays?: number;
}
export class ContainerPolicyDto {
  @ApiProperty({ type: [String], description: 'Host path prefixes that bind mounts may use (instance admins only)' }) @IsArray() @ArrayMaxSize(50) @IsString({ each: true }) @MaxLength(1024, { each: true }) allowedBindPaths: string[];
}
export class RoleChoiceDto {
  @ApiProperty({ enum: ROLE_CHOICES }) @IsIn(ROLE_CHOICES) role: string;
  @ApiPropertyOptional({ description: 'Required when role is "custom"' }) @IsOptional() @IsUUID() customRoleId?: string;
  @ApiPropertyOptional({ type: [String], description: 'Limit to these projects; omit for all', nullable: true }) @IsOptional() @IsArray() @ArrayMaxSize(500) @IsUUID('all', { each: true }) projectIds?: string[] | null;
  @ApiPropertyOptional({
    type: [String], nullable: true,
    description: 'Limit to these environments (their variables, applications and deployments; their projects become readable). Combined with projectIds: the projects whole plus these environments. Omit both for everything',
  }) @IsOptional() @IsArray() @ArrayMaxSize(500) @IsUUID('all', { each: true }) environmentIds?: string[] | null;
}
export class UpdateMemberDto extends RoleChoiceDto {}
export class CreateInvitationDto extends RoleChoiceDto {
  @ApiProperty() @IsEmail() @MaxLength(254) email: string;
  @ApiPropertyOptional({ minimum: 1, maximum: 720, description: 'Hours until the invitation expires (default 72)' }) @IsOptional() @IsInt() @Min(1) @Max(720) ttlHours?: number;
}
export class AcceptInvitationDto {
  @ApiProperty() @IsString() @Length(10, 200) token: string;
  @ApiPropertyOptional({ description: 'For a new account' }) @IsOptional() @IsString() @Length(1, 200) name?: string;
  @ApiPropertyOptional({ description: 'For a new account' }) @IsOptional() @IsString() @Length(1, 512) password?: string;
}
export class CreateRoleDto {
  @ApiProperty() @IsString() @Length(1, 100) name: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(1000) description?: string;
  @ApiProperty({ enum: ALL_PERMISSIONS, isArray: true }) @IsArray() @ArrayMaxSize(200) @IsString({ each: true }) permissions: string[];
}
export class UpdateRoleDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 100) name?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(1000) description?: string;
  @ApiPropertyOptional({ enum: ALL_PERMISSIONS, isArray: true }) @IsOptional() @IsArray() @ArrayMaxSize(200) @IsString({ each: true }) permissions?: string[];
}
export class CreateServiceAccountKeyDto {
  @ApiProperty() @IsString() @Length(1, 100) name: string;
  @ApiProperty({ enum: API_KEY_SCOPES, isArray: true }) @IsArray() @ArrayMaxSize(4) @IsIn(API_KEY_SCOPES, { each: true }) scopes: string[];
  @ApiProperty({ enum: ROLE_CHOICES }) @IsIn(ROLE_CHOICES) role: string;
  @ApiPropertyOptional() @IsOptional() @IsUUID() customRoleId?: string;
  @ApiPropertyOptional({ format: 'date-time' }) @IsOptional() @IsISO8601() expiresAt?: string;
}
