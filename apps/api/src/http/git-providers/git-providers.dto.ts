import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { GIT_PROVIDER_AUTHS, GIT_PROVIDER_KINDS } from '@wharf/contracts';

const SECRET_KINDS = ['privateKey', 'webhookSecret', 'token', 'clientSecret'];

export class GitProviderOAuthStateDto {
  @ApiProperty({ enum: ['not-authorized', 'authorized', 'needs-reauthorization'] }) status: string;
  @ApiProperty({ type: String, nullable: true, description: 'The provider user who authorized the application' }) username: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time', description: 'When the access token expires (refreshed 5 minutes before)' }) expiresAt: string | null;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) authorizedAt: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Why the connection needs re-authorization' }) message: string | null;
  @ApiProperty({ description: "The redirect URI to register in the provider's OAuth application" }) redirectUri: string;
}
export class GitProviderOAuthStartDto {
  @ApiProperty({ description: "The provider's authorize page (open it in the browser)" }) authorizationUrl: string;
  @ApiProperty() redirectUri: string;
  @ApiProperty({ format: 'date-time' }) expiresAt: string;
}

export class GitProviderDto {
  @ApiProperty() id: string;
  @ApiProperty() organizationId: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: GIT_PROVIDER_KINDS }) kind: string;
  @ApiProperty({ example: 'https://api.github.com' }) baseUrl: string;
  @ApiProperty({ type: String, nullable: true, description: 'GitHub App id' }) appId: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'GitHub App installation id' }) installationId: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Bitbucket username (app passwords)' }) username: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'Bitbucket workspace' }) workspace: string | null;
  @ApiProperty({ enum: SECRET_KINDS, isArray: true, description: 'Which secrets are stored (values are never returned)' }) secretsSet: string[];
  @ApiProperty({ type: String, nullable: true, description: "GitHub App connections: the path of the App's webhook URL (append to Wharf's public URL; set it and the webhook secret in the App's settings); null for other kinds" }) webhookPath: string | null;
  @ApiProperty({ enum: GIT_PROVIDER_AUTHS, description: "GitLab, Bitbucket: 'token' or 'oauth' (a GitLab OAuth application, a Bitbucket OAuth consumer); 'token' for the other kinds" }) auth: string;
  @ApiProperty({ type: String, nullable: true, description: 'OAuth client id (GitLab Application ID, Bitbucket consumer Key)' }) clientId: string | null;
  @ApiProperty({ type: GitProviderOAuthStateDto, nullable: true, description: 'OAuth connections: the authorization (tokens never)' }) oauth: GitProviderOAuthStateDto | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
  @ApiProperty() version: number;
}

export class GitProviderDeliveryDto {
  @ApiProperty() id: string;
  @ApiProperty({ description: "GitHub's delivery id (X-GitHub-Delivery; rejected deliveries get one of Wharf's own)" }) deliveryId: string;
  @ApiProperty({ type: String, nullable: true, example: 'push' }) event: string | null;
  @ApiProperty({ enum: ['accepted', 'ignored', 'rejected'] }) outcome: string;
  @ApiProperty({ type: String, nullable: true }) reason: string | null;
  @ApiProperty({ type: String, nullable: true, description: "The payload's repository (owner/name)" }) repository: string | null;
  @ApiProperty({ description: 'How many applications the delivery was handed to (each lists it in its own deliveries)' }) applications: number;
  @ApiProperty({ format: 'date-time' }) receivedAt: string;
}

class GitProviderFieldsDto {
  @ApiPropertyOptional({ description: 'API base URL, https only (GitHub Enterprise: https://host/api/v3; default per kind: api.github.com, gitlab.com, api.bitbucket.org/2.0; required for Gitea)' })
  @IsOptional() @IsString() @MaxLength(300) baseUrl?: string;
  @ApiPropertyOptional({ description: 'GitHub App id' }) @IsOptional() @IsString() @MaxLength(20) appId?: string;
  @ApiPropertyOptional({ description: 'GitHub App installation id' }) @IsOptional() @IsString() @MaxLength(20) installationId?: string;
  @ApiPropertyOptional({ description: 'Bitbucket username (with an app password)' }) @IsOptional() @IsString() @MaxLength(100) username?: string;
  @ApiPropertyOptional({ description: 'Bitbucket workspace' }) @IsOptional() @IsString() @MaxLength(100) workspace?: string;
  @ApiPropertyOptional({ writeOnly: true, description: 'GitHub App private key (PEM); stored encrypted, never returned' }) @IsOptional() @IsString() @MaxLength(16384) privateKey?: string;
  @ApiPropertyOptional({ writeOnly: true, description: 'GitHub App webhook secret; stored encrypted, never returned' }) @IsOptional() @IsString() @MaxLength(4096) webhookSecret?: string;
  @ApiPropertyOptional({ writeOnly: true, description: 'Access token (GitLab, Gitea) or app password/access token (Bitbucket); stored encrypted, never returned' }) @IsOptional() @IsString() @MaxLength(4096) token?: string;
  @ApiPropertyOptional({ enum: GIT_PROVIDER_AUTHS, description: "GitLab, Bitbucket: 'token' (default) or 'oauth' (a GitLab OAuth application or a Bitbucket OAuth consumer, authorized afterwards); cannot change later" }) @IsOptional() @IsIn([...GIT_PROVIDER_AUTHS]) auth?: string;
  @ApiPropertyOptional({ description: 'OAuth client id (auth oauth): the GitLab Application ID or the Bitbucket consumer Key' }) @IsOptional() @IsString() @MaxLength(200) clientId?: string;
  @ApiPropertyOptional({ writeOnly: true, description: 'OAuth client secret (auth oauth): the GitLab application or Bitbucket consumer Secret; stored encrypted, never returned' }) @IsOptional() @IsString() @MaxLength(4096) clientSecret?: string;
}
export class CreateGitProviderDto extends GitProviderFieldsDto {
  @ApiProperty() @IsString() @Length(1, 100) name: string;
  @ApiProperty({ enum: GIT_PROVIDER_KINDS }) @IsIn([...GIT_PROVIDER_KINDS]) kind: string;
}
export class UpdateGitProviderDto extends GitProviderFieldsDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 100) name?: string;
}
export class GitProviderTestDto {
  @ApiProperty() ok: boolean;
  @ApiProperty() message: string;
}
export class ProviderRepositoryDto {
  @ApiProperty({ example: 'octo/hello' }) fullName: string;
  @ApiProperty({ example: 'https://github.com/octo/hello.git' }) cloneUrl: string;
  @ApiProperty({ type: String, nullable: true }) defaultBranch: string | null;
  @ApiProperty() private: boolean;
}
export class ProviderBranchDto {
  @ApiProperty() name: string;
  @ApiProperty() commit: string;
}
export class ProviderRepositoriesQueryDto {
  @ApiPropertyOptional({ description: 'Only repositories whose name contains this' }) @IsOptional() @IsString() @MaxLength(100) search?: string;
}
export class ProviderBranchesQueryDto {
  @ApiProperty({ description: 'Full name of the repository (owner/name)' }) @IsString() @Length(1, 300) repository: string;
}
