import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsArray, IsBoolean, IsInt, IsObject, IsOptional, IsString } from 'class-validator';

/**
 * Domain bodies: class-validator checks the top-level types; the routing validator (`validateDomainSpec`) checks
 * every value and names each bad field as a JSON pointer (`/redirects/2/regex`, `/responseHeaders/X-Foo`, …).
 */
export class RegexRedirectDto {
  @ApiProperty({ description: 'Go RE2 regex matched against the full URL', example: '^https?://example\\.com/old/(.*)$' }) regex: string;
  @ApiProperty({ example: 'https://example.com/new/${1}' }) replacement: string;
  @ApiProperty() permanent: boolean;
}
export class BasicAuthUserInputDto {
  @ApiProperty({ example: 'alice' }) username: string;
  @ApiPropertyOptional({ description: 'Stored only as a bcrypt hash, never returned. On a change, omit it to keep the user\'s current password.', format: 'password' }) password?: string;
}
export class RateLimitDto {
  @ApiProperty({ description: 'Requests per period on average, per client IP' }) average: number;
  @ApiProperty() burst: number;
  @ApiPropertyOptional({ description: 'Seconds (default 1)' }) periodSeconds?: number;
}

class DomainOptionsDto {
  @ApiPropertyOptional({ description: 'Path prefix (default /)', example: '/api' }) @IsOptional() @IsString() pathPrefix?: string | null;
  @ApiPropertyOptional({ description: 'Remove the path prefix before the request reaches the application' }) @IsOptional() @IsBoolean() stripPrefix?: boolean;
  @ApiPropertyOptional({ description: 'With https: answer plain HTTP with a permanent redirect to HTTPS' }) @IsOptional() @IsBoolean() redirectHttpToHttps?: boolean;
  @ApiPropertyOptional({ description: 'Also answer on the www/apex form of the host and redirect it to the host' }) @IsOptional() @IsBoolean() wwwRedirect?: boolean;
  @ApiPropertyOptional({ type: [RegexRedirectDto] }) @IsOptional() @IsArray() redirects?: Array<Record<string, unknown>>;
  @ApiPropertyOptional({ type: [BasicAuthUserInputDto] }) @IsOptional() @IsArray() basicAuth?: Array<Record<string, unknown>>;
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, description: 'Response headers set on every response; an empty value removes the header' }) @IsOptional() @IsObject() responseHeaders?: Record<string, string>;
  @ApiPropertyOptional({ type: [String], description: 'Client addresses or CIDRs allowed (empty: everyone)' }) @IsOptional() @IsArray() ipAllowList?: string[];
  @ApiPropertyOptional({ type: RateLimitDto, nullable: true }) @IsOptional() @IsObject() rateLimit?: Record<string, unknown> | null;
}

export class CreateDomainDto extends DomainOptionsDto {
  @ApiProperty({ description: 'Host name (IDNs are stored as punycode)', example: 'app.example.com' }) @IsString() host: string;
  @ApiProperty({ minimum: 1, maximum: 65535, description: 'The port the application listens on inside its container' }) @IsInt() port: number;
  @ApiProperty({ description: 'Serve on the websecure entry point with TLS' }) @IsBoolean() https: boolean;
}
export class UpdateDomainDto extends DomainOptionsDto {
  @ApiPropertyOptional() @IsOptional() @IsString() host?: string;
  @ApiPropertyOptional({ minimum: 1, maximum: 65535 }) @IsOptional() @IsInt() port?: number;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() https?: boolean;
}

export class BasicAuthUserDto {
  @ApiProperty() username: string;
  @ApiProperty({ enum: [true] }) passwordSet: true;
}
export class RateLimitViewDto {
  @ApiProperty() average: number;
  @ApiProperty() burst: number;
  @ApiProperty() periodSeconds: number;
}
export class DomainDto {
  @ApiProperty() id: string;
  @ApiProperty() organizationId: string;
  @ApiProperty() projectId: string;
  @ApiProperty() environmentId: string;
  @ApiProperty() applicationId: string;
  @ApiProperty({ description: 'Lower-case punycode' }) host: string;
  @ApiProperty() pathPrefix: string;
  @ApiProperty() stripPrefix: boolean;
  @ApiProperty() port: number;
  @ApiProperty() https: boolean;
  @ApiProperty() redirectHttpToHttps: boolean;
  @ApiProperty() wwwRedirect: boolean;
  @ApiProperty({ type: [RegexRedirectDto] }) redirects: RegexRedirectDto[];
  @ApiProperty({ type: [BasicAuthUserDto], description: 'Usernames only: passwords and their hashes are never returned' }) basicAuth: BasicAuthUserDto[];
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) responseHeaders: Record<string, string>;
  @ApiProperty({ type: [String] }) ipAllowList: string[];
  @ApiProperty({ type: RateLimitViewDto, nullable: true }) rateLimit: RateLimitViewDto | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
  @ApiProperty() version: number;
}
