import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsArray, IsBoolean, IsInt, IsOptional, IsString } from 'class-validator';

export class PreviewEnvDto {
  @ApiProperty({ example: 'API_URL' }) key: string;
  @ApiProperty({ type: String, nullable: true, description: 'The value; a secret is never returned (null), and a secret sent without a value keeps its stored value' }) value: string | null;
  @ApiProperty({ description: 'Stored encrypted, never returned' }) secret: boolean;
}

export class SetPreviewSettingsDto {
  @ApiPropertyOptional({ description: 'Pull requests get previews (default false)' }) @IsOptional() @IsBoolean() enabled?: boolean;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'Wildcard domain previews answer under: *.preview.example.com gives pr-<n>-<app>.preview.example.com (point its DNS at Wharf); null: no domain', example: '*.preview.example.com' }) @IsOptional() domain?: string | null;
  @ApiPropertyOptional({ type: Number, nullable: true, description: "Container port the preview's domain routes to (default: the application's first port, else 80)" }) @IsOptional() port?: number | null;
  @ApiPropertyOptional({ description: "Serve the preview's domain over HTTPS (default true)" }) @IsOptional() @IsBoolean() https?: boolean;
  @ApiPropertyOptional({ type: [PreviewEnvDto], description: "Overrides of the application's variables in previews" }) @IsOptional() @IsArray() env?: Array<Record<string, unknown>>;
  @ApiPropertyOptional({ description: 'Most previews at once, awaiting ones included (1–50, default 5)' }) @IsOptional() @IsInt() maxPreviews?: number;
}

export class PreviewSettingsDto {
  @ApiProperty() applicationId: string;
  @ApiProperty() enabled: boolean;
  @ApiProperty({ type: String, nullable: true }) domain: string | null;
  @ApiProperty({ type: Number, nullable: true }) port: number | null;
  @ApiProperty() https: boolean;
  @ApiProperty({ type: [PreviewEnvDto] }) env: PreviewEnvDto[];
  @ApiProperty() maxPreviews: number;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) updatedAt: string | null;
  @ApiProperty({ description: '0 until the settings are first saved' }) version: number;
}

class PreviewDeploymentDto {
  @ApiProperty() id: string;
  @ApiProperty() status: string;
}

export class PreviewDto {
  @ApiProperty() id: string;
  @ApiProperty({ description: 'The pull/merge request number' }) number: number;
  @ApiProperty({ enum: ['github', 'gitlab', 'gitea', 'bitbucket'] }) provider: string;
  @ApiProperty({ enum: ['awaiting-approval', 'active'] }) state: string;
  @ApiProperty({ type: String, nullable: true, description: 'Why it awaits an approval' }) approvalReason: string | null;
  @ApiProperty() headRef: string;
  @ApiProperty() headSha: string;
  @ApiProperty({ type: String, nullable: true, description: 'The commit that was approved or trusted (what deploys)' }) approvedSha: string | null;
  @ApiProperty({ type: String, nullable: true }) deployedSha: string | null;
  @ApiProperty() fromFork: boolean;
  @ApiProperty({ type: String, nullable: true }) author: string | null;
  @ApiProperty({ type: String, nullable: true }) authorAssociation: string | null;
  @ApiProperty({ type: String, nullable: true }) title: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'The preview application (null until its first deployment)' }) applicationId: string | null;
  @ApiProperty({ type: String, nullable: true }) url: string | null;
  @ApiProperty({ type: PreviewDeploymentDto, nullable: true }) deployment: PreviewDeploymentDto | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class ApprovePreviewDto {
  @ApiPropertyOptional({ description: 'The head commit you reviewed: refused (409) when the pull request has moved on since' }) @IsOptional() @IsString() commit?: string;
}
