import { Body, Controller, Delete, Get, Headers, HttpCode, Inject, Param, Patch, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiCreatedResponse, ApiFoundResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { DomainError, randomToken, RateLimiter, WHARF_CONFIG, WharfConfig } from '@wharf/core';
import {
  CompleteOidcLoginCommand, CreateOidcProviderCommand, DeleteOidcProviderCommand, GetOidcProviderQuery, ListOidcProvidersQuery,
  ListPublicOidcProvidersQuery, OidcLoginError, OidcLoginResult, OidcProviderView, Principal, PublicOidcProvider, StartOidcLoginCommand, UpdateOidcProviderCommand,
} from '@wharf/tenancy';
import { Public } from '../common/public.decorator';
import { CurrentPrincipal, OptionalPrincipal } from '../common/principal.decorator';
import { AuthedRequest, clientOf } from '../common/auth.guard';
import { setSessionCookies } from '../common/cookies';
import { IdPipe, parseIfMatch } from '../common/params';
import { ApiErrors } from '../common/api-errors.decorator';
import { CreateOidcProviderDto, OidcProviderDto, PublicOidcProviderDto, PublicOidcProvidersQueryDto, UpdateOidcProviderDto } from './oidc.dto';

/** Browser redirects carry an error code only, never a token. */
const loginError = (code: string): string => `/login?error=${encodeURIComponent(code)}`;
const OIDC_STARTS_PER_MINUTE = 30;
/**
 * Binds a sign-in to the browser that started it: httpOnly, SameSite=Lax (the provider redirects back cross-site with a
 * top-level GET, which Lax allows), as long as a login state lives. One value per browser, so two tabs can sign in.
 */
const BINDER_COOKIE = 'wharf_oidc_binder';
const BINDER_RE = /^[A-Za-z0-9_-]{32,64}$/;
const cookieOf = (req: AuthedRequest, name: string): string | null => {
  const v = (req.cookies as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v : null;
};
const errorCode = (e: unknown): string => (e instanceof DomainError && e.code.startsWith('oidc-') ? e.code : 'oidc-failed');

@ApiTags('auth')
@Controller('auth/oidc')
export class OidcAuthController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    private readonly limiter: RateLimiter,
    @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
  ) {}

  @Public()
  @Get('providers')
  @ApiOperation({ summary: 'Enabled single sign-on providers of an organization, for the sign-in page' })
  @ApiOkResponse({ type: [PublicOidcProviderDto] })
  @ApiErrors(400)
  providers(@Query() q: PublicOidcProvidersQueryDto): Promise<PublicOidcProvider[]> {
    return this.queries.execute(new ListPublicOidcProvidersQuery(q.organization));
  }

  @Public()
  @Get('callback')
  @ApiOperation({ summary: 'Redirect target of the identity provider: signs in and redirects to returnTo, or to /login?error=<code>' })
  @ApiFoundResponse({ description: 'To returnTo with session cookies set, or to /login?error=<code>' })
  async callback(@Req() req: AuthedRequest, @Res() res: Response): Promise<void> {
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.query)) if (typeof v === 'string') params[k] = v;
    res.setHeader('Cache-Control', 'no-store');
    let result: OidcLoginResult;
    try {
      result = await this.commands.execute(new CompleteOidcLoginCommand(params, clientOf(req), cookieOf(req, BINDER_COOKIE)));
    } catch (e) {
      res.redirect(302, loginError(errorCode(e)));
      return;
    }
    setSessionCookies(res, this.config, result.tokens);
    res.redirect(302, result.returnTo);
  }

  @Public()
  @Get(':providerId/start')
  @ApiOperation({ summary: 'Starts single sign-on: redirects to the identity provider (authorization code + PKCE)' })
  @ApiQuery({ name: 'returnTo', required: false, description: 'A relative path (starting with a single /) to land on after sign-in' })
  @ApiQuery({ name: 'link', required: false, description: 'true: link this identity to your signed-in account' })
  @ApiFoundResponse({ description: 'To the identity provider, or to /login?error=<code>' })
  async start(
    @Param('providerId') providerId: string,
    @OptionalPrincipal() p: Principal | null,
    @Req() req: AuthedRequest,
    @Res() res: Response,
    @Query('returnTo') returnTo?: string,
    @Query('link') link?: string,
  ): Promise<void> {
    res.setHeader('Cache-Control', 'no-store');
    try {
      // Each start stores a login state: a public route that writes is rate-limited per client address.
      const key = `oidc-start:${clientOf(req).ip ?? 'unknown'}`;
      await this.limiter.consume([{ key, limit: OIDC_STARTS_PER_MINUTE, windowSeconds: 60 }]).catch(() => {
        throw new OidcLoginError('oidc-rate-limited', 'Too many sign-in attempts; try again in a minute');
      });
      const linkUserId = link === 'true' && p?.kind === 'user' ? p.userId : null;
      if (link === 'true' && !linkUserId) throw new OidcLoginError('oidc-link-requires-session', 'Sign in first to link an identity');
      const existing = cookieOf(req, BINDER_COOKIE);
      const binder = existing && BINDER_RE.test(existing) ? existing : randomToken(32);
      const r = await this.commands.execute(new StartOidcLoginCommand(providerId, typeof returnTo === 'string' ? returnTo : undefined, linkUserId, binder));
      res.cookie(BINDER_COOKIE, binder, { httpOnly: true, sameSite: 'lax', secure: this.config.publicUrl.startsWith('https:'), path: '/api/v1/auth/oidc', maxAge: 10 * 60_000 });
      res.redirect(302, r.authorizationUrl);
    } catch (e) {
      res.redirect(302, loginError(errorCode(e)));
    }
  }
}

@ApiTags('organizations')
@ApiErrors(401)
@Controller('organizations/:orgId/oidc-providers')
export class OidcProvidersController {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({ summary: 'Single sign-on providers of the organization (client secrets are never returned)' })
  @ApiOkResponse({ type: [OidcProviderDto] })
  @ApiErrors(404)
  list(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string): Promise<OidcProviderView[]> {
    return this.queries.execute(new ListOidcProvidersQuery(p, orgId));
  }

  @Post()
  @ApiOperation({ summary: 'Configure an OpenID Connect provider (role mapping never above your own role)' })
  @ApiCreatedResponse({ type: OidcProviderDto })
  @ApiErrors(400, 403, 404)
  create(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string, @Body() dto: CreateOidcProviderDto): Promise<OidcProviderView> {
    return this.commands.execute(new CreateOidcProviderCommand(p, orgId, dto));
  }

  @Get(':providerId')
  @ApiOkResponse({ type: OidcProviderDto })
  @ApiErrors(404)
  async get(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string, @Param('providerId', IdPipe) id: string, @Res({ passthrough: true }) res: Response): Promise<OidcProviderView> {
    const v: OidcProviderView = await this.queries.execute(new GetOidcProviderQuery(p, orgId, id));
    res.setHeader('ETag', `"${v.version}"`);
    return v;
  }

  @Patch(':providerId')
  @ApiOperation({ summary: 'Change a provider (If-Match: version); clientSecret replaces the stored one' })
  @ApiOkResponse({ type: OidcProviderDto })
  @ApiErrors(400, 403, 404, 412)
  update(
    @CurrentPrincipal() p: Principal,
    @Param('orgId', IdPipe) orgId: string,
    @Param('providerId', IdPipe) id: string,
    @Body() dto: UpdateOidcProviderDto,
    @Headers('if-match') ifMatch?: string,
  ): Promise<OidcProviderView> {
    return this.commands.execute(new UpdateOidcProviderCommand(p, orgId, id, dto, parseIfMatch(ifMatch)));
  }

  @Delete(':providerId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an identity provider' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(403, 404)
  async remove(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string, @Param('providerId', IdPipe) id: string): Promise<void> {
    await this.commands.execute(new DeleteOidcProviderCommand(p, orgId, id));
  }
}
