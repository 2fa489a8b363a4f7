import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DEPLOYMENT_KINDS, DEPLOYMENT_STATUSES } from '@wharf/contracts';
import { AuditActorDto } from '../audit/audit-events.dto';
import { ApplicationSpecDto } from './applications.dto';

/** Response shapes of the registry, application and deployment routes (the views of libs/applications). */
export class RegistryDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty() host: string;
  @ApiProperty() username: string;
  @ApiProperty({ enum: [true], description: 'The password is stored encrypted and never returned' }) passwordSet: true;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
  @ApiProperty() version: number;
}
export class RegistryTestDto {
  @ApiProperty() ok: boolean;
  @ApiProperty() message: string;
}
const RUNTIME_STATES = ['running', 'degraded', 'stopped', 'missing', 'deploying', 'unknown'];
export class RuntimeDto {
  @ApiProperty({ enum: RUNTIME_STATES }) state: string;
  @ApiProperty() running: number;
  @ApiProperty() desired: number;
  @ApiProperty({ format: 'date-time' }) observedAt: string;
}
export class EffectiveOrderDto {
  @ApiProperty({ enum: ['start-first', 'stop-first'], description: 'The order chosen in the spec' }) chosen: string;
  @ApiProperty({ enum: ['start-first', 'stop-first'], description: 'The order deployments use on this server' }) effective: string;
  @ApiProperty({ type: String, nullable: true, description: 'Why the effective order differs from the chosen one' }) reason: string | null;
}
export class UpdateOrderDto {
  @ApiProperty({ type: EffectiveOrderDto }) update: EffectiveOrderDto;
  @ApiProperty({ type: EffectiveOrderDto }) rollback: EffectiveOrderDto;
}
export class ConfigurationDriftDto {
  @ApiProperty({ description: 'The running deployment differs from the saved configuration (a redeploy applies it)' }) differs: boolean;
  @ApiProperty({ type: [String], description: 'What differs: spec fields (spec.image) and variable keys (variables.FOO); never values' }) changed: string[];
  @ApiProperty({ description: 'The running deployment (the last succeeded one)' }) deploymentId: string;
  @ApiProperty({ enum: DEPLOYMENT_KINDS }) deploymentKind: string;
}
export class ApplicationDto {
  @ApiProperty() id: string;
  @ApiProperty() organizationId: string;
  @ApiProperty() projectId: string;
  @ApiProperty() environmentId: string;
  @ApiProperty() serverId: string;
  @ApiProperty() name: string;
  @ApiProperty() slug: string;
  @ApiProperty({ description: 'The Swarm service name' }) serviceName: string;
  @ApiProperty({ type: ApplicationSpecDto }) spec: ApplicationSpecDto;
  @ApiProperty({ enum: ['running', 'stopped'] }) desiredState: 'running' | 'stopped';
  @ApiProperty({ type: RuntimeDto, nullable: true, description: 'Live state observed by the reconciler; null before the first observation' }) runtime: RuntimeDto | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
  @ApiProperty() version: number;
  @ApiProperty({ type: UpdateOrderDto, required: false, description: 'The update and rollback order deployments really use on this server, and why (on single-application reads)' }) updateOrder?: UpdateOrderDto;
  @ApiProperty({ required: false, description: 'A pull request preview: the id of the application it previews (absent otherwise)' }) previewOf?: string;
}
export class ApplicationPageDto {
  @ApiProperty({ type: [ApplicationDto] }) items: ApplicationDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}
export class AcceptedDto {
  @ApiProperty({ enum: [true] }) accepted: true;
}
export class ServerStatusDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty() status: string;
  @ApiProperty({ type: String, nullable: true }) message: string | null;
  @ApiProperty({ type: Boolean, nullable: true, description: 'Whether the kernel has IPVS (VIP routing); null when unknown' }) ipvs: boolean | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) observedAt: string | null;
}
export class ApplicationStatusDto {
  @ApiProperty() applicationId: string;
  @ApiProperty({ enum: ['running', 'stopped'] }) desiredState: string;
  @ApiProperty({ enum: RUNTIME_STATES }) state: string;
  @ApiProperty() running: number;
  @ApiProperty() desired: number;
  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true }, description: 'Swarm tasks (id, state, message, error, node, ports)' }) tasks: Array<Record<string, unknown>>;
  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true }, description: 'Differences between the desired spec and the running service' }) drift: Array<Record<string, unknown>>;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) observedAt: string | null;
  @ApiProperty({ type: ServerStatusDto, nullable: true }) server: ServerStatusDto | null;
  @ApiProperty({ type: ConfigurationDriftDto, nullable: true, description: 'The running deployment against the saved configuration; null before the first succeeded deployment' }) configuration: ConfigurationDriftDto | null;
}
export class AppVariableDto {
  @ApiProperty() key: string;
  @ApiProperty({ type: String, nullable: true, description: 'null for secrets: use the reveal call' }) value: string | null;
  @ApiProperty() secret: boolean;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}
export class RevealedAppVariableDto {
  @ApiProperty() key: string;
  @ApiProperty() value: string;
}
export class DeploymentUploadDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() fileName: string;
  @ApiProperty({ description: 'Bytes of the archive as uploaded' }) size: number;
  @ApiProperty({ description: 'sha256 of the archive (hex)' }) sha256: string;
}
export class DeploymentSourceDto {
  @ApiPropertyOptional({ enum: ['git', 'upload'], description: 'Absent on deployments from before upload sources: git' }) kind?: string;
  @ApiPropertyOptional({ type: DeploymentUploadDto, description: 'Upload sources: the archive built (repository and ref are empty then)' }) upload?: DeploymentUploadDto;
  @ApiProperty() repository: string;
  @ApiProperty() ref: string;
  @ApiProperty({ type: String, nullable: true, description: 'The commit built (null until the checkout resolved it)' }) commit: string | null;
  @ApiProperty({ type: String, nullable: true }) message: string | null;
  @ApiProperty({ type: String, nullable: true }) author: string | null;
  @ApiProperty({ type: String, nullable: true }) authorEmail: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) committedAt: string | null;
}
export class DeploymentDto {
  @ApiProperty() id: string;
  @ApiProperty() applicationId: string;
  @ApiProperty({ enum: DEPLOYMENT_KINDS }) kind: string;
  @ApiProperty({ enum: DEPLOYMENT_STATUSES }) status: string;
  @ApiProperty() image: string;
  @ApiProperty({ type: String, nullable: true, description: 'RepoDigest, or the local image id' }) imageDigest: string | null;
  @ApiProperty() replicas: number;
  @ApiProperty({ type: String, nullable: true, description: 'The deployment this one rolls back to' }) rollbackOf: string | null;
  @ApiProperty({ type: AuditActorDto }) requestedBy: AuditActorDto;
  @ApiProperty({ type: String, nullable: true }) error: string | null;
  @ApiProperty({ format: 'date-time' }) queuedAt: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) startedAt: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) finishedAt: string | null;
  @ApiProperty({ type: Number, nullable: true }) durationMs: number | null;
  @ApiProperty() cancelRequested: boolean;
  @ApiProperty({ type: DeploymentSourceDto, nullable: true, description: 'The Git commit built (null for image deployments)' }) source: DeploymentSourceDto | null;
}
export class DeploymentPageDto {
  @ApiProperty({ type: [DeploymentDto] }) items: DeploymentDto[];
  @ApiProperty({ type: String, nullable: true }) nextCursor: string | null;
}
export class DeploymentLogLineDto {
  @ApiProperty() seq: number;
  @ApiProperty({ format: 'date-time' }) time: string;
  @ApiProperty() step: string;
  @ApiProperty() level: string;
  @ApiProperty() message: string;
}
export class DeploymentLogDto {
  @ApiProperty({ enum: DEPLOYMENT_STATUSES }) status: string;
  @ApiProperty({ type: [DeploymentLogLineDto] }) lines: DeploymentLogLineDto[];
}
export class RuntimeLogLineDto {
  @ApiProperty({ enum: ['stdout', 'stderr'] }) stream: string;
  @ApiProperty() line: string;
  @ApiProperty({ format: 'date-time' }) time: string;
}
export class RuntimeLogsDto {
  @ApiProperty({ type: [RuntimeLogLineDto] }) lines: RuntimeLogLineDto[];
}

export class ServerDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: ['local', 'ssh'] }) kind: string;
  @ApiProperty({ nullable: true, type: String }) organizationId: string | null;
  @ApiProperty({ example: 'ready' }) status: string;
  @ApiProperty({ nullable: true, type: String, example: 'No IPVS in this kernel: …' }) statusMessage: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'ipvs, swarmActive, nodeCount, engineVersion' }) capabilities: Record<string, unknown>;
  @ApiProperty({ nullable: true, type: String }) observedAt: string | null;
}
