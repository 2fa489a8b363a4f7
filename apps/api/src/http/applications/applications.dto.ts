import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsObject, IsOptional, IsString, Length, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { Type } from 'class-transformer';

export class PortSpecDto {
  @ApiProperty({ minimum: 1, maximum: 65535 }) target: number;
  @ApiPropertyOptional({ minimum: 1, maximum: 65535, description: 'Omit in host mode to let the engine pick a port per task' }) published?: number;
  @ApiProperty({ enum: ['tcp', 'udp'] }) protocol: 'tcp' | 'udp';
  @ApiProperty({ enum: ['ingress', 'host'], description: 'Without IPVS only host mode works' }) mode: 'ingress' | 'host';
}
export class HealthcheckSpecDto {
  @ApiProperty({ type: [String], example: ['CMD', 'wget', '-q', '-O-', 'http://127.0.0.1/'] }) test: string[];
  @ApiProperty() intervalMs: number;
  @ApiProperty() timeoutMs: number;
  @ApiProperty() retries: number;
  @ApiProperty() startPeriodMs: number;
}
export class UpdatePolicySpecDto {
  @ApiProperty() parallelism: number;
  @ApiProperty({ enum: ['start-first', 'stop-first'] }) order: string;
  @ApiProperty({ enum: ['pause', 'continue', 'rollback'] }) failureAction: string;
  @ApiProperty() monitorMs: number;
}
export class MountSpecDto {
  @ApiProperty({ enum: ['volume', 'bind'] }) type: string;
  @ApiProperty() source: string;
  @ApiProperty() target: string;
  @ApiProperty() readOnly: boolean;
}
export class ResourcesSpecDto {
  @ApiPropertyOptional({ nullable: true, type: Number }) cpuLimit?: number | null;
  @ApiPropertyOptional({ nullable: true, type: Number }) memoryLimitMb?: number | null;
  @ApiPropertyOptional({ nullable: true, type: Number }) cpuReservation?: number | null;
  @ApiPropertyOptional({ nullable: true, type: Number }) memoryReservationMb?: number | null;
}
/** Documented shape of an application spec; validated field by field by the domain (errors name /spec/… pointers). */
export class ApplicationSpecDto {
  @ApiProperty({ example: '127.0.0.1:5000/team/web:1.2' }) image: string;
  @ApiPropertyOptional({ nullable: true, type: String }) registryId?: string | null;
  @ApiPropertyOptional({ type: [String], nullable: true, description: 'Entrypoint argv (never a shell string)' }) command?: string[] | null;
  @ApiPropertyOptional({ type: [String], nullable: true }) args?: string[] | null;
  @ApiPropertyOptional({ minimum: 0, maximum: 100 }) replicas?: number;
  @ApiPropertyOptional({ type: ResourcesSpecDto }) resources?: ResourcesSpecDto;
  @ApiPropertyOptional({ type: [PortSpecDto] }) ports?: PortSpecDto[];
  @ApiPropertyOptional({ type: HealthcheckSpecDto, nullable: true }) healthcheck?: HealthcheckSpecDto | null;
  @ApiPropertyOptional({ type: 'object', properties: { condition: { type: 'string', enum: ['none', 'on-failure', 'any'] }, delayMs: { type: 'number' }, maxAttempts: { type: 'number' } } }) restartPolicy?: Record<string, unknown>;
  @ApiPropertyOptional({ type: UpdatePolicySpecDto }) update?: UpdatePolicySpecDto;
  @ApiPropertyOptional({ type: UpdatePolicySpecDto }) rollback?: UpdatePolicySpecDto;
  @ApiPropertyOptional({ type: [String], example: ['node.role==manager'] }) constraints?: string[];
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, description: 'The wharf.* prefix is reserved' }) labels?: Record<string, string>;
  @ApiPropertyOptional({ type: [MountSpecDto] }) mounts?: MountSpecDto[];
  @ApiPropertyOptional() stopGracePeriodMs?: number;
  @ApiPropertyOptional() deployTimeoutMs?: number;
}

export class CreateApplicationDto {
  @ApiProperty() @IsString() @Length(1, 100) name: string;
  @ApiProperty({ type: ApplicationSpecDto }) @IsObject() spec: Record<string, unknown>;
}
export class UpdateApplicationDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 100) name?: string;
  @ApiPropertyOptional({ type: ApplicationSpecDto, description: 'Partial: only the given fields change' }) @IsOptional() @IsObject() spec?: Record<string, unknown>;
}
export class VariableInputDto {
  @ApiProperty() @IsString() @Length(1, 128) key: string;
  @ApiProperty() @IsString() @MaxLength(65536) value: string;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() secret?: boolean;
}
export class SetVariablesDto {
  @ApiProperty({ type: [VariableInputDto] }) @IsArray() @ArrayMaxSize(500) @ValidateNested({ each: true }) @Type(() => VariableInputDto) variables: VariableInputDto[];
}
export class RequestDeploymentDto {
  @ApiPropertyOptional({ enum: ['deploy', 'redeploy'], description: 'redeploy forces new tasks even when nothing changed' }) @IsOptional() @IsIn(['deploy', 'redeploy']) kind?: 'deploy' | 'redeploy';
  @ApiPropertyOptional({ description: 'Git applications: build exactly this commit (a full 40- or 64-character hexadecimal id)', example: '0123456789abcdef0123456789abcdef01234567', maxLength: 64 })
  @IsOptional() @IsString() @MaxLength(64) commit?: string;
  @ApiPropertyOptional({ description: 'Git applications: this branch or tag instead of the source\'s ref, for this deployment only (with `commit`: where to find it)', example: 'refs/tags/v1.2.0', maxLength: 255 })
  @IsOptional() @IsString() @MaxLength(255) ref?: string;
}
export class ScaleDto {
  @ApiProperty({ minimum: 0, maximum: 100 }) @IsInt() @Min(0) @Max(100) replicas: number;
}
export class CreateRegistryDto {
  @ApiProperty() @IsString() @Length(1, 100) name: string;
  @ApiProperty({ example: '127.0.0.1:5000' }) @IsString() @Length(1, 255) host: string;
  @ApiProperty() @IsString() @Length(1, 255) username: string;
  @ApiProperty({ writeOnly: true }) @IsString() @Length(1, 4096) password: string;
}
export class UpdateRegistryDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 100) name?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 255) host?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 255) username?: string;
  @ApiPropertyOptional({ writeOnly: true }) @IsOptional() @IsString() @Length(1, 4096) password?: string;
}
