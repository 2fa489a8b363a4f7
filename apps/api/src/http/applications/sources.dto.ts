import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsArray, IsBoolean, IsObject, IsOptional, IsString } from 'class-validator';
import { AuditActorDto } from '../audit/audit-events.dto';
import { DeploymentDto } from './application-views.dto';

export class GitAuthInputDto {
  @ApiProperty({ enum: ['none', 'token', 'deploy-key'] }) kind: string;
  @ApiPropertyOptional({ description: 'Token authentication: the user name sent with the token (default x-access-token)' }) username?: string;
  @ApiPropertyOptional({ description: 'Token authentication: an access token (stored encrypted, never returned; leave out to keep the stored one)', format: 'password' }) token?: string;
}
export class BuildSecretInputDto {
  @ApiProperty({ description: 'The secret id, used as RUN --mount=type=secret,id=NAME (letters, digits, _ . -)', example: 'NPM_TOKEN' }) name: string;
  @ApiPropertyOptional({ description: 'The value (stored encrypted, never returned; leave out to keep the stored one)', format: 'password' }) value?: string;
}
export class BuildSettingsInputDto {
  @ApiPropertyOptional({ enum: ['dockerfile', 'static', 'auto', 'nixpacks', 'railpack', 'buildpacks'], description: 'dockerfile: the repository\'s Dockerfile; static: serve the publish directory; auto: the Dockerfile if there is one, else one generated for the detected stack (Node.js, Python, Go, static); nixpacks/railpack/buildpacks: the tool installed on the build host' }) kind?: string;
  @ApiPropertyOptional({ description: 'Path of the Dockerfile, relative to the build path (default Dockerfile)' }) dockerfile?: string;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'Build stage to stop at' }) target?: string | null;
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, description: 'Build arguments (kept in the image history: never secrets)' }) args?: Record<string, string>;
  @ApiPropertyOptional({ description: 'static: the directory served, relative to the build path (default .)' }) publishDirectory?: string;
  @ApiPropertyOptional({ description: 'static: unknown paths answer with index.html (single-page applications)' }) spaFallback?: boolean;
  @ApiPropertyOptional({ type: [BuildSecretInputDto], description: 'Build secrets for RUN --mount=type=secret,id=NAME steps (never in a layer, the log or a response); names not listed are removed' }) secrets?: BuildSecretInputDto[];
}
export class SetApplicationSourceDto {
  @ApiPropertyOptional({ enum: ['git', 'upload'], description: 'git (default): build from the repository; upload: build from archives uploaded with POST …/source/upload (only buildPath and build apply)' }) @IsOptional() @IsString() kind?: string;
  @ApiPropertyOptional({ description: 'Git sources (required there): https://host/path(.git), ssh://user@host[:port]/path or user@host:path; no credentials in the URL', example: 'https://git.example.com/acme/shop.git' }) @IsOptional() @IsString() repository?: string;
  @ApiPropertyOptional({ description: 'Git sources (required there): a branch, a tag, or a full commit id', example: 'main' }) @IsOptional() @IsString() ref?: string;
  @ApiPropertyOptional({ description: 'The directory the build starts in, relative to the repository root (default .)' }) @IsOptional() @IsString() buildPath?: string;
  @ApiPropertyOptional({ type: [String], description: 'Deploy on push only when a changed file matches one of these globs (empty: any change)' }) @IsOptional() @IsArray() watchPaths?: string[];
  @ApiPropertyOptional({ description: 'Also check out submodules (shallow)' }) @IsOptional() @IsBoolean() submodules?: boolean;
  @ApiPropertyOptional({ type: [String], example: ['v*'], description: 'Globs of tag names whose push deploys that tag\'s commit (letters, digits, . _ - / + @ and * ? [ ] { } ,; at most 20); empty: tags never deploy' }) @IsOptional() @IsArray() deployTags?: string[];
  @ApiPropertyOptional({ type: GitAuthInputDto, description: 'Git sources (required there): how Wharf authenticates' }) @IsOptional() @IsObject() auth?: Record<string, unknown>;
  @ApiPropertyOptional({ type: [String], description: 'SSH (deploy key): the host keys the server must present, as known_hosts lines (`ssh-keyscan` prints them); no host key is trusted on first use' }) @IsOptional() @IsArray() knownHosts?: string[];
  @ApiPropertyOptional({ type: BuildSettingsInputDto }) @IsOptional() @IsObject() build?: Record<string, unknown>;
  @ApiPropertyOptional({ type: String, nullable: true, format: 'uuid', description: "The organization's Git provider connection that supplies the credentials (a GitHub App mints a short-lived token per checkout); auth.kind must then be none and the repository an https URL on the provider's host" })
  @IsOptional() @IsString() providerId?: string | null;
}

class GitAuthViewDto {
  @ApiProperty({ enum: ['none', 'token', 'deploy-key'] }) kind: string;
  @ApiProperty({ type: String, nullable: true }) username: string | null;
  @ApiProperty({ description: 'Whether an access token is stored (it is never returned)' }) tokenSet: boolean;
}
class DeployKeyViewDto {
  @ApiProperty({ description: 'Add this to the repository as a read-only deploy key' }) publicKey: string;
  @ApiProperty({ example: 'SHA256:…' }) fingerprint: string;
}
class BuildSettingsViewDto {
  @ApiProperty({ enum: ['dockerfile', 'static', 'auto', 'nixpacks', 'railpack', 'buildpacks'] }) kind: string;
  @ApiProperty() dockerfile: string;
  @ApiProperty({ type: String, nullable: true }) target: string | null;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) args: Record<string, string>;
  @ApiProperty() publishDirectory: string;
  @ApiProperty() spaFallback: boolean;
  @ApiProperty({ type: [String], description: 'Names of the build secrets (values are never returned)' }) secrets: string[];
}
export class SourceUploadDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: 'The file name given with the upload (a base name; unsafe characters replaced)' }) fileName: string;
  @ApiProperty({ enum: ['tar.gz', 'tar'] }) format: string;
  @ApiProperty({ description: 'Bytes of the archive as uploaded' }) size: number;
  @ApiProperty({ description: 'sha256 of the archive (hex)' }) sha256: string;
  @ApiProperty({ description: 'Entries in the archive (files, directories, links)' }) entries: number;
  @ApiProperty({ type: AuditActorDto }) uploadedBy: AuditActorDto;
  @ApiProperty({ format: 'date-time' }) uploadedAt: string;
}
export class ApplicationSourceDto {
  @ApiProperty() applicationId: string;
  @ApiProperty({ enum: ['git', 'upload'], description: 'git: built from the repository; upload: from the uploaded archive (repository and ref are empty)' }) kind: string;
  @ApiProperty({ type: SourceUploadDto, nullable: true, description: 'Upload sources: the archive the next deployment builds (null until one is uploaded)' }) upload: SourceUploadDto | null;
  @ApiProperty() repository: string;
  @ApiProperty() ref: string;
  @ApiProperty() buildPath: string;
  @ApiProperty({ type: [String] }) watchPaths: string[];
  @ApiProperty() submodules: boolean;
  @ApiProperty({ type: [String], description: 'Globs of tag names whose push deploys that tag\'s commit; empty: tags never deploy' }) deployTags: string[];
  @ApiProperty({ type: GitAuthViewDto }) auth: GitAuthViewDto;
  @ApiProperty({ type: String, nullable: true, description: 'The Git provider connection that supplies the credentials (null: the source\'s own auth)' }) providerId: string | null;
  @ApiProperty({ type: DeployKeyViewDto, nullable: true }) deployKey: DeployKeyViewDto | null;
  @ApiProperty({ type: [String] }) knownHosts: string[];
  @ApiProperty({ type: BuildSettingsViewDto }) build: BuildSettingsViewDto;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, description: 'Webhook endpoint path per provider (github, gitlab, gitea, bitbucket, generic), relative to Wharf’s public URL' }) webhooks: Record<string, string>;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
  @ApiProperty() version: number;
}
export class WebhookSecretDto {
  @ApiProperty({ description: 'The secret deliveries are signed with (GitHub/Gitea/Bitbucket HMAC, GitLab token, generic HMAC)' }) secret: string;
}

export class WebhookDeliveryDto {
  @ApiProperty() id: string;
  @ApiProperty({ enum: ['github', 'gitlab', 'gitea', 'bitbucket', 'generic'] }) provider: string;
  @ApiProperty({ description: "The provider's delivery id (rejected deliveries get one of Wharf's own)" }) deliveryId: string;
  @ApiProperty({ type: String, nullable: true }) event: string | null;
  @ApiProperty({ enum: ['accepted', 'ignored', 'rejected'] }) outcome: string;
  @ApiProperty({ type: String, nullable: true }) reason: string | null;
  @ApiProperty({ type: String, nullable: true }) ref: string | null;
  @ApiProperty({ type: String, nullable: true }) commit: string | null;
  @ApiProperty({ type: String, nullable: true }) deploymentId: string | null;
  @ApiProperty({ type: String, nullable: true, description: "The Git provider connection whose webhook (a GitHub App's) the delivery came through; null: the application's own webhook" }) gitProviderId: string | null;
  @ApiProperty({ format: 'date-time' }) receivedAt: string;
}

export class HostKeyScanDto {
  @ApiProperty({ description: 'Whether any host key was found' }) ok: boolean;
  @ApiProperty({ type: [String], description: 'known_hosts lines (host key-type base64-key)' }) lines: string[];
  @ApiProperty() message: string;
}

export class SourceUploadResultDto {
  @ApiProperty({ type: ApplicationSourceDto }) source: ApplicationSourceDto;
  @ApiProperty({ type: SourceUploadDto }) upload: SourceUploadDto;
  @ApiProperty({ type: DeploymentDto, nullable: true, description: 'With deploy=true: the deployment queued for the archive' }) deployment: DeploymentDto | null;
}
