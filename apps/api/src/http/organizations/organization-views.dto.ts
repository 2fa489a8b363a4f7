import { ApiProperty } from '@nestjs/swagger';
import { ALL_PERMISSIONS } from '@wharf/contracts';
import { TokenPairDto } from '../auth/auth.dto';

/** Response shapes of the organization routes (the views of libs/tenancy). */
export class ContainerPolicyViewDto {
  @ApiProperty({ type: [String], description: 'Host path prefixes that bind mounts may use' }) allowedBindPaths: string[];
}
export class OrganizationDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty() slug: string;
  @ApiProperty() requireTwoFactor: boolean;
  @ApiProperty() auditRetentionDays: number;
  @ApiProperty() deploymentLogRetentionDays: number;
  @ApiProperty({ type: ContainerPolicyViewDto }) containerPolicy: ContainerPolicyViewDto;
  @ApiProperty({ type: String, nullable: true, description: 'Your role here (null for an instance admin who is no member)' }) role: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
  @ApiProperty() version: number;
}
export class OkDto {
  @ApiProperty({ enum: [true] }) ok: true;
}
export class MemberDto {
  @ApiProperty() userId: string;
  @ApiProperty() email: string;
  @ApiProperty() name: string;
  @ApiProperty() role: string;
  @ApiProperty({ type: String, nullable: true }) customRoleId: string | null;
  @ApiProperty({ type: [String], nullable: true, description: 'Whole projects the member is limited to (null and environmentIds null: everything)' }) projectIds: string[] | null;
  @ApiProperty({ type: [String], nullable: true, description: 'Environments the member is limited to besides whole projects' }) environmentIds: string[] | null;
  @ApiProperty() twoFactorEnabled: boolean;
  @ApiProperty({ format: 'date-time' }) joinedAt: string;
  @ApiProperty() version: number;
}
export class InvitationDto {
  @ApiProperty() id: string;
  @ApiProperty() email: string;
  @ApiProperty() role: string;
  @ApiProperty({ type: String, nullable: true }) customRoleId: string | null;
  @ApiProperty({ type: [String], nullable: true }) projectIds: string[] | null;
  @ApiProperty({ type: [String], nullable: true }) environmentIds: string[] | null;
  @ApiProperty({ format: 'date-time' }) expiresAt: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ enum: ['pending', 'accepted', 'revoked', 'expired'] }) status: 'pending' | 'accepted' | 'revoked' | 'expired';
}
export class CreatedInvitationDto extends InvitationDto {
  @ApiProperty({ description: 'The single-use invitation token, returned only this once' }) token: string;
}
export class InvitationPreviewDto {
  @ApiProperty({ description: 'The organization the invitation is for' }) organizationName: string;
  @ApiProperty({ description: 'The invited email address' }) email: string;
  @ApiProperty({ description: 'The role offered (a custom role by its name)' }) role: string;
  @ApiProperty({ format: 'date-time' }) expiresAt: string;
}
export class AcceptedInvitationDto {
  @ApiProperty() organizationId: string;
  @ApiProperty({ type: TokenPairDto, nullable: true, description: 'For a new account: its first session (also set as cookies); null when you were signed in' }) tokens: TokenPairDto | null;
}
export class RoleDto {
  @ApiProperty({ type: String, nullable: true, description: 'null for a built-in role' }) id: string | null;
  @ApiProperty() name: string;
  @ApiProperty() description: string;
  @ApiProperty() builtin: boolean;
  @ApiProperty({ enum: ALL_PERMISSIONS, isArray: true }) permissions: string[];
  @ApiProperty({ type: Number, nullable: true, description: 'null for a built-in role' }) version: number | null;
}
