import { Body, Controller, Get, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { UnauthenticatedError, WHARF_CONFIG, WharfConfig } from '@wharf/core';
import { LoginCommand, LogoutCommand, Principal, RefreshCommand, SetupCommand, SetupStatusQuery, TokenPair } from '@wharf/tenancy';
import { Public } from '../common/public.decorator';
import { AuthedRequest, clientOf, REFRESH_COOKIE } from '../common/auth.guard';
import { CurrentPrincipal } from '../common/principal.decorator';
import { clearSessionCookies, setSessionCookies } from '../common/cookies';
import { ApiErrors } from '../common/api-errors.decorator';
import { LoginDto, RefreshDto, SetupDto, SetupResultDto, SetupStatusDto, TokenPairDto } from './auth.dto';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus, @Inject(WHARF_CONFIG) private readonly config: WharfConfig) {}

  @Public()
  @Get('setup')
  @ApiOperation({ summary: 'Whether first-run setup is still needed (the portal shows the setup form)' })
  @ApiOkResponse({ type: SetupStatusDto })
  setupStatus(): Promise<{ needed: boolean }> {
    return this.queries.execute(new SetupStatusQuery());
  }

  @Public()
  @Post('setup')
  @ApiOperation({ summary: 'First run: create the first user as owner of the first organization (needs the setup token)' })
  @ApiCreatedResponse({ type: SetupResultDto, description: 'The first session (also set as cookies)' })
  @ApiErrors(400, 403, 409)
  async setup(@Body() dto: SetupDto, @Req() req: AuthedRequest, @Res({ passthrough: true }) res: Response) {
    const r = await this.commands.execute(new SetupCommand(dto, clientOf(req)));
    setSessionCookies(res, this.config, r);
    return r;
  }

  @Public()
  @Post('login')
  @HttpCode(200)
  @ApiOperation({ summary: 'Password sign-in (with totpCode or recoveryCode when 2FA is on); rate-limited per account and IP' })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiErrors(400, 401, 429)
  async login(@Body() dto: LoginDto, @Req() req: AuthedRequest, @Res({ passthrough: true }) res: Response): Promise<TokenPair> {
    const r = await this.commands.execute(new LoginCommand(dto, clientOf(req)));
    setSessionCookies(res, this.config, r);
    return r;
  }

  @Public()
  @Post('refresh')
  @HttpCode(200)
  @ApiOperation({ summary: 'Exchange a refresh token (body or cookie) for new tokens; reuse revokes the session' })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiErrors(400, 401)
  async refresh(@Body() dto: RefreshDto, @Req() req: AuthedRequest, @Res({ passthrough: true }) res: Response): Promise<TokenPair> {
    const token = dto.refreshToken ?? (req.cookies as Record<string, string> | undefined)?.[REFRESH_COOKIE];
    if (!token) throw new UnauthenticatedError('A refresh token is required', 'invalid-refresh-token');
    const r = await this.commands.execute(new RefreshCommand(token, clientOf(req)));
    setSessionCookies(res, this.config, r);
    return r;
  }

  @Post('logout')
  @HttpCode(204)
  @ApiOperation({ summary: 'End the current session' })
  @ApiNoContentResponse({ description: 'Signed out; session cookies cleared' })
  @ApiErrors(401)
  async logout(@CurrentPrincipal() p: Principal, @Res({ passthrough: true }) res: Response): Promise<void> {
    await this.commands.execute(new LogoutCommand(p));
    clearSessionCookies(res);
  }
}
