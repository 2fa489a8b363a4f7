import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsOptional, IsString, Length, Matches, MaxLength, ValidateNested } from 'class-validator';
import { SLUG_RE } from '@wharf/core';

const NOT_BLANK = /\S/;
const KEY_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

export class CreateProjectDto {
  @ApiProperty({ minLength: 1, maxLength: 100 }) @IsString() @Length(1, 100) @Matches(NOT_BLANK, { message: 'name must not be blank' }) name: string;
  @ApiPropertyOptional({ description: 'Immutable; derived from the name (and de-duplicated) when omitted', pattern: SLUG_RE.source })
  @IsOptional() @IsString() @Matches(SLUG_RE, { message: 'slug must be lowercase letters, digits and dashes (1–63, no leading or trailing dash)' }) slug?: string;
  @ApiPropertyOptional({ maxLength: 1000 }) @IsOptional() @IsString() @MaxLength(1000) description?: string;
}
export class UpdateProjectDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 100 }) @IsOptional() @IsString() @Length(1, 100) @Matches(NOT_BLANK, { message: 'name must not be blank' }) name?: string;
  @ApiPropertyOptional({ maxLength: 1000 }) @IsOptional() @IsString() @MaxLength(1000) description?: string;
}
export class DeleteProjectDto {
  @ApiPropertyOptional({ description: "The project's slug, typed to confirm (or the X-Confirm header)" }) @IsOptional() @IsString() @MaxLength(100) confirm?: string;
}

export class CreateEnvironmentDto {
  @ApiProperty({ minLength: 1, maxLength: 100 }) @IsString() @Length(1, 100) @Matches(NOT_BLANK, { message: 'name must not be blank' }) name: string;
  @ApiPropertyOptional({ description: 'Immutable; derived from the name when omitted', pattern: SLUG_RE.source })
  @IsOptional() @IsString() @Matches(SLUG_RE, { message: 'slug must be lowercase letters, digits and dashes (1–63, no leading or trailing dash)' }) slug?: string;
}
export class UpdateEnvironmentDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 100 }) @IsOptional() @IsString() @Length(1, 100) @Matches(NOT_BLANK, { message: 'name must not be blank' }) name?: string;
}

export class VariableInputDto {
  @ApiProperty({ pattern: KEY_RE.source }) @IsString() @Matches(KEY_RE, { message: 'key must match ^[A-Za-z_][A-Za-z0-9_]{0,127}$' }) key: string;
  @ApiProperty({ description: 'Up to 64 KiB (UTF-8); stored verbatim' }) @IsString() @MaxLength(65536) value: string;
  @ApiPropertyOptional({ description: 'Encrypted at rest, never returned except by reveal. Omitted: new variables are plain, existing ones keep their kind' })
  @IsOptional() @IsBoolean() secret?: boolean;
}
/** One variable (`key`, `value`, `secret`) or many (`variables`). */
export class UpsertVariablesDto {
  @ApiPropertyOptional({ pattern: KEY_RE.source }) @IsOptional() @IsString() @Matches(KEY_RE, { message: 'key must match ^[A-Za-z_][A-Za-z0-9_]{0,127}$' }) key?: string;
  @ApiPropertyOptional({ description: 'Up to 64 KiB (UTF-8)' }) @IsOptional() @IsString() @MaxLength(65536) value?: string;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() secret?: boolean;
  @ApiPropertyOptional({ type: [VariableInputDto] })
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(500) @ValidateNested({ each: true }) @Type(() => VariableInputDto) variables?: VariableInputDto[];
}

export class ProjectDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) organizationId: string;
  @ApiProperty() name: string;
  @ApiProperty() slug: string;
  @ApiProperty() description: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
  @ApiProperty() version: number;
}
export class EnvironmentDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) organizationId: string;
  @ApiProperty({ format: 'uuid' }) projectId: string;
  @ApiProperty() name: string;
  @ApiProperty() slug: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
  @ApiProperty() version: number;
}
export class CreatedProjectDto extends ProjectDto {
  @ApiProperty({ type: [EnvironmentDto], description: 'The production environment created with the project' }) environments: EnvironmentDto[];
}
export class VariableDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() key: string;
  @ApiProperty({ type: String, nullable: true, description: 'null for secrets' }) value: string | null;
  @ApiProperty() secret: boolean;
  @ApiProperty() valueSet: boolean;
  @ApiProperty({ format: 'uuid' }) projectId: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) environmentId: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
  @ApiProperty() version: number;
}
export class RevealedVariableDto {
  @ApiProperty() key: string;
  @ApiProperty() value: string;
  @ApiProperty() secret: boolean;
}
export class ProjectPageDto {
  @ApiProperty({ type: [ProjectDto] }) items: ProjectDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}
export class EnvironmentPageDto {
  @ApiProperty({ type: [EnvironmentDto] }) items: EnvironmentDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}
export class VariablePageDto {
  @ApiProperty({ type: [VariableDto] }) items: VariableDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}
export class VariableListDto {
  @ApiProperty({ type: [VariableDto] }) items: VariableDto[];
}
