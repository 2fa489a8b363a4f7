import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { AbilitiesDto, ApiKeyDto, CreatedApiKeyDto, MeDto, RecoveryCodesDto, SessionDto, TwoFactorSetupDto } from './me.dto';
import { packRules } from '@casl/ability/extra';
import { ArrayMaxSize, IsArray, IsIn, IsISO8601, IsOptional, IsString, IsUUID, Length, Matches } from 'class-validator';
import { DataSource } from 'typeorm';
import { API_KEY_SCOPES } from '@wharf/contracts';
import { SessionService, UserEntity } from '@wharf/identity';
import {
  BeginTwoFactorCommand, ChangePasswordCommand, CreatePersonalApiKeyCommand, DisableTwoFactorCommand, EnableTwoFactorCommand,
  ListApiKeysQuery, Principal, RevokeApiKeyCommand, RevokeSessionCommand,
} from '@wharf/tenancy';
import { CurrentPrincipal } from '../common/principal.decorator';
import { IdPipe } from '../common/params';
import { ApiErrors } from '../common/api-errors.decorator';

export class ChangePasswordDto {
  @ApiProperty() @IsString() @Length(1, 512) currentPassword: string;
  @ApiProperty({ minLength: 10 }) @IsString() @Length(1, 512) newPassword: string;
}
export class TotpCodeDto {
  @ApiProperty() @Matches(/^\d{6}$/, { message: 'code must be 6 digits' }) code: string;
}
export class PasswordDto {
  @ApiProperty() @IsString() @Length(1, 512) password: string;
}
export class CreatePersonalApiKeyDto {
  @ApiProperty() @IsString() @Length(1, 100) name: string;
  @ApiProperty({ enum: API_KEY_SCOPES, isArray: true }) @IsArray() @ArrayMaxSize(4) @IsIn(API_KEY_SCOPES, { each: true }) scopes: string[];
  @ApiPropertyOptional({ format: 'date-time' }) @IsOptional() @IsISO8601() expiresAt?: string;
  @ApiPropertyOptional({ description: 'Limit the key to one organization' }) @IsOptional() @IsUUID() organizationId?: string;
}

@ApiTags('me')
@ApiErrors(401)
@Controller('me')
export class MeController {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus, private readonly ds: DataSource, private readonly sessions: SessionService) {}

  @Get()
  @ApiOperation({ summary: 'The signed-in user (or API key) and their organizations' })
  @ApiOkResponse({ type: MeDto })
  async me(@CurrentPrincipal() p: Principal) {
    const user = p.userId ? await this.ds.getRepository(UserEntity).findOneBy({ id: p.userId }) : null;
    return {
      kind: p.kind,
      user: user ? { id: user.id, email: user.email, name: user.name, twoFactorEnabled: user.totpEnabled, isInstanceAdmin: user.isInstanceAdmin } : null,
      apiKeyId: p.apiKeyId,
      scopes: p.scopes,
      memberships: p.grants.map((g) => ({ organizationId: g.organizationId, role: g.role, customRoleId: g.customRoleId, projectIds: g.projectIds, environmentIds: g.environmentIds, twoFactorRequired: g.blockedByTwoFactor })),
    };
  }

  @Get('abilities')
  @ApiOperation({ summary: "The caller's packed CASL rules, for the portal" })
  @ApiOkResponse({ type: AbilitiesDto })
  abilities(@CurrentPrincipal() p: Principal) {
    return { rules: packRules(p.ability.rules) };
  }

  @Post('password')
  @HttpCode(204)
  @ApiOperation({ summary: 'Change the password; every other session is revoked' })
  @ApiNoContentResponse({ description: 'Changed' })
  @ApiErrors(400, 403)
  async changePassword(@CurrentPrincipal() p: Principal, @Body() dto: ChangePasswordDto): Promise<void> {
    await this.commands.execute(new ChangePasswordCommand(p, dto.currentPassword, dto.newPassword));
  }

  @Get('sessions')
  @ApiOperation({ summary: 'Active sessions of the signed-in user' })
  @ApiOkResponse({ type: [SessionDto] })
  sessionsList(@CurrentPrincipal() p: Principal) {
    return p.userId && p.kind === 'user' ? this.sessions.list(p.userId, p.sessionId) : [];
  }

  @Delete('sessions/:sessionId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke one of your sessions (sign it out)' })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiErrors(404)
  async revokeSession(@CurrentPrincipal() p: Principal, @Param('sessionId', IdPipe) id: string): Promise<void> {
    await this.commands.execute(new RevokeSessionCommand(p, id));
  }

  @Post('two-factor/setup')
  @ApiOperation({ summary: 'Start TOTP enrolment: returns the secret and an otpauth:// URI for a QR code' })
  @ApiCreatedResponse({ type: TwoFactorSetupDto })
  @ApiErrors(403, 409)
  beginTwoFactor(@CurrentPrincipal() p: Principal) {
    return this.commands.execute(new BeginTwoFactorCommand(p));
  }

  @Post('two-factor/enable')
  @HttpCode(200)
  @ApiOperation({ summary: 'Confirm with a code; returns ten one-time recovery codes (shown once)' })
  @ApiOkResponse({ type: RecoveryCodesDto })
  @ApiErrors(400, 403, 409)
  enableTwoFactor(@CurrentPrincipal() p: Principal, @Body() dto: TotpCodeDto) {
    return this.commands.execute(new EnableTwoFactorCommand(p, dto.code));
  }

  @Post('two-factor/disable')
  @HttpCode(204)
  @ApiOperation({ summary: 'Turn two-factor authentication off (needs your password)' })
  @ApiNoContentResponse({ description: 'Disabled' })
  @ApiErrors(400, 403)
  async disableTwoFactor(@CurrentPrincipal() p: Principal, @Body() dto: PasswordDto): Promise<void> {
    await this.commands.execute(new DisableTwoFactorCommand(p, dto.password));
  }

  @Get('api-keys')
  @ApiOperation({ summary: 'Your personal API keys (never the secret)' })
  @ApiOkResponse({ type: [ApiKeyDto] })
  apiKeys(@CurrentPrincipal() p: Principal) {
    return this.queries.execute(new ListApiKeysQuery(p, null));
  }

  @Post('api-keys')
  @ApiOperation({ summary: 'Create a personal API key; the key is returned once' })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  @ApiErrors(400, 403, 404)
  createApiKey(@CurrentPrincipal() p: Principal, @Body() dto: CreatePersonalApiKeyDto) {
    return this.commands.execute(new CreatePersonalApiKeyCommand(p, dto));
  }

  @Delete('api-keys/:keyId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke one of your personal API keys' })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiErrors(404)
  async revokeApiKey(@CurrentPrincipal() p: Principal, @Param('keyId', IdPipe) id: string): Promise<void> {
    await this.commands.execute(new RevokeApiKeyCommand(p, null, id));
  }
}
