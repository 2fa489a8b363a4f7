import { Controller, Get, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { randomToken, WHARF_CONFIG, WharfConfig } from '@wharf/core';
import { CompleteGitProviderOAuthCommand, GitProviderOAuthResult, GitProviderOAuthStart, StartGitProviderOAuthCommand } from '@wharf/sources';
import { Principal } from '@wharf/tenancy';
import { Public } from '../common/public.decorator';
import { CurrentPrincipal, OptionalPrincipal } from '../common/principal.decorator';
import { AuthedRequest, clientOf } from '../common/auth.guard';
import { IdPipe } from '../common/params';
import { ApiErrors } from '../common/api-errors.decorator';
import { GitProviderOAuthStartDto } from './git-providers.dto';

/**
 * Binds an authorization to the browser that started it: httpOnly, SameSite=Lax (the provider sends the browser back
 * with a cross-site top-level GET, which Lax allows and the session's Strict cookies do not), 10 minutes, only sent to
 * /api/v1/git-providers. One value per browser, so two authorizations can run side by side.
 */
const BINDER_COOKIE = 'wharf_git_oauth_binder';
const BINDER_RE = /^[A-Za-z0-9_-]{32,64}$/;
const cookieOf = (req: AuthedRequest): string | null => {
  const v = (req.cookies as Record<string, unknown> | undefined)?.[BINDER_COOKIE];
  return typeof v === 'string' && BINDER_RE.test(v) ? v : null;
};
/** The portal page the browser lands on: a flag and a reason code, never a code or a token. */
const landing = (r: GitProviderOAuthResult): string => {
  const q = new URLSearchParams({ oauth: r.ok ? 'authorized' : 'failed', ...(r.providerId ? { provider: r.providerId } : {}), ...(r.reason ? { reason: r.reason } : {}) });
  return r.organizationId ? `/orgs/${r.organizationId}/settings/git-providers?${q.toString()}` : `/?${new URLSearchParams({ gitProviderOAuth: 'failed', reason: r.reason ?? 'oauth-failed' }).toString()}`;
};

@ApiTags('git-providers')
@Controller('git-providers')
export class GitProviderOAuthController {
  constructor(private readonly commands: CommandBus, @Inject(WHARF_CONFIG) private readonly config: WharfConfig) {}

  @Post(':providerId/oauth/authorize')
  @HttpCode(200)
  @ApiOperation({ summary: "Start authorizing an OAuth connection (GitLab application, Bitbucket consumer): answers the provider's authorize URL (single-use state bound to you and this browser for 10 minutes; GitLab with PKCE S256)" })
  @ApiOkResponse({ type: GitProviderOAuthStartDto })
  @ApiErrors(401, 403, 404, 409)
  async authorize(@CurrentPrincipal() p: Principal, @Param('providerId', IdPipe) id: string, @Req() req: AuthedRequest, @Res({ passthrough: true }) res: Response): Promise<GitProviderOAuthStart> {
    const binder = cookieOf(req) ?? randomToken(32);
    const r: GitProviderOAuthStart = await this.commands.execute(new StartGitProviderOAuthCommand(p, id, binder));
    res.setHeader('Cache-Control', 'no-store');
    res.cookie(BINDER_COOKIE, binder, { httpOnly: true, sameSite: 'lax', secure: this.config.publicUrl.startsWith('https:'), path: '/api/v1/git-providers', maxAge: 10 * 60_000 });
    return r;
  }

  @Public()
  @Get('oauth/callback')
  @ApiOperation({ summary: "Redirect URI of Git provider OAuth applications: exchanges the code (through the worker) and redirects to the portal's Git providers page with oauth=authorized|failed" })
  @ApiFoundResponse({ description: 'To /orgs/{orgId}/settings/git-providers?oauth=authorized|failed&provider=…&reason=…' })
  async callback(@OptionalPrincipal() p: Principal | null, @Req() req: AuthedRequest, @Res() res: Response): Promise<void> {
    const params: Record<string, string> = {};
    for (const k of ['code', 'state', 'error']) {
      const v = req.query[k];
      if (typeof v === 'string') params[k] = v;
    }
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Referrer-Policy', 'no-referrer');
    let result: GitProviderOAuthResult;
    try {
      result = await this.commands.execute(new CompleteGitProviderOAuthCommand(params, cookieOf(req), p, clientOf(req)));
    } catch {
      result = { ok: false, reason: 'oauth-failed', organizationId: null, providerId: null };
    }
    res.redirect(302, landing(result));
  }
}
