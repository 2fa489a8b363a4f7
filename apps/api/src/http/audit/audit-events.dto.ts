import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, Length } from 'class-validator';

const OUTCOMES = ['succeeded', 'denied', 'failed'] as const;
const ACTOR_TYPES = ['user', 'api-key', 'system'] as const;

export class AuditRangeDto {
  @ApiPropertyOptional({ format: 'date-time', description: 'Entries at or after this time' }) @IsOptional() @IsISO8601() from?: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'Entries before this time' }) @IsOptional() @IsISO8601() to?: string;
}

/** The filters the list and the export share. */
export class AuditFilterQueryDto extends AuditRangeDto {
  @ApiPropertyOptional({ description: "Actor id, or a substring of the actor's name" }) @IsOptional() @IsString() @Length(1, 200) actor?: string;
  @ApiPropertyOptional({ description: 'Event type (`organization.updated`), or a prefix ending in `*` (`organization.*`)' }) @IsOptional() @IsString() @Length(1, 200) action?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 100) subjectType?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 200) subjectId?: string;
  @ApiPropertyOptional({ enum: OUTCOMES }) @IsOptional() @IsIn(OUTCOMES) outcome?: string;
}

export class ListAuditEventsQueryDto extends AuditFilterQueryDto {
  @ApiPropertyOptional({ type: Number, minimum: 1, maximum: 200, default: 50 }) @IsOptional() @IsString() limit?: string;
  @ApiPropertyOptional({ description: 'Opaque cursor from the previous page' }) @IsOptional() @IsString() @Length(0, 500) cursor?: string;
}

/** Exports the entries matching the same filters as the list (all of them when none is given). */
export class ExportAuditEventsQueryDto extends AuditFilterQueryDto {
  @ApiProperty({ enum: ['csv', 'ndjson'] }) @IsIn(['csv', 'ndjson']) format: 'csv' | 'ndjson';
}

export class AuditActorDto {
  @ApiProperty({ enum: ACTOR_TYPES }) type: string;
  @ApiProperty({ type: String, nullable: true }) id: string | null;
  @ApiProperty() name: string;
}

export class AuditSubjectDto {
  @ApiProperty() type: string;
  @ApiProperty({ type: String, nullable: true }) id: string | null;
  @ApiProperty({ type: String, nullable: true }) name: string | null;
}

export class AuditEventDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: 'Position in the chain (per organization; the instance chain has its own)' }) seq: number;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'null = instance-level chain' }) organizationId: string | null;
  @ApiProperty({ format: 'date-time' }) occurredAt: string;
  @ApiProperty({ type: AuditActorDto }) actor: AuditActorDto;
  @ApiProperty({ example: 'project.created' }) action: string;
  @ApiProperty({ type: AuditSubjectDto }) subject: AuditSubjectDto;
  @ApiProperty({ enum: OUTCOMES }) outcome: string;
  @ApiProperty({ type: String, nullable: true }) ip: string | null;
  @ApiProperty({ type: String, nullable: true }) userAgent: string | null;
  @ApiProperty({ type: String, nullable: true }) requestId: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'Changed fields; secrets are "[redacted]"' }) changes: Record<string, unknown>;
  @ApiProperty({ type: String, nullable: true }) prevHash: string | null;
  @ApiProperty({ description: 'sha256 over the canonical JSON of the entry and prevHash' }) hash: string;
}

export class AuditEventPageDto {
  @ApiProperty({ type: [AuditEventDto] }) items: AuditEventDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}

export class AuditVerifyDto {
  @ApiProperty() ok: boolean;
  @ApiProperty({ description: 'Entries verified before the first break (all of them when ok)' }) checked: number;
  @ApiProperty({ type: Number, nullable: true }) firstBrokenSeq: number | null;
  @ApiProperty({ type: String, nullable: true }) firstBrokenId: string | null;
  @ApiProperty({ type: String, nullable: true }) reason: string | null;
}
