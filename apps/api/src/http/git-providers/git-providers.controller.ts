import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  CreateGitProviderCommand, DeleteGitProviderCommand, GetGitProviderQuery, ListGitProviderDeliveriesQuery, ListGitProvidersQuery, ListProviderBranchesQuery, ListProviderRepositoriesQuery, TestGitProviderCommand,
  UpdateGitProviderCommand,
} from '@wharf/sources';
import { Principal } from '@wharf/tenancy';
import { CurrentPrincipal } from '../common/principal.decorator';
import { IdPipe, parseIfMatch } from '../common/params';
import { ApiErrors } from '../common/api-errors.decorator';
import {
  CreateGitProviderDto, GitProviderDeliveryDto, GitProviderDto, GitProviderTestDto, ProviderBranchDto, ProviderBranchesQueryDto, ProviderRepositoriesQueryDto, ProviderRepositoryDto, UpdateGitProviderDto,
} from './git-providers.dto';

const given = (dto: object): Record<string, unknown> => Object.fromEntries(Object.entries(dto).filter(([, v]) => v !== undefined));

@ApiTags('git-providers')
@ApiErrors(401, 404)
@Controller()
export class GitProvidersController {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus) {}

  @Get('organizations/:orgId/git-providers')
  @ApiOperation({ summary: 'Git provider connections of the organization (secrets never returned)' })
  @ApiOkResponse({ type: [GitProviderDto] })
  list(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string) {
    return this.queries.execute(new ListGitProvidersQuery(p, orgId));
  }

  @Post('organizations/:orgId/git-providers')
  @ApiOperation({ summary: 'Connect a Git provider (GitHub App, GitLab, Gitea/Forgejo, Bitbucket); secrets are stored encrypted' })
  @ApiCreatedResponse({ type: GitProviderDto })
  @ApiErrors(400, 403, 409)
  create(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string, @Body() dto: CreateGitProviderDto) {
    return this.commands.execute(new CreateGitProviderCommand(p, orgId, given(dto)));
  }

  @Get('git-providers/:providerId')
  @ApiOperation({ summary: 'A Git provider connection (secrets never returned)' })
  @ApiOkResponse({ type: GitProviderDto })
  get(@CurrentPrincipal() p: Principal, @Param('providerId', IdPipe) id: string) {
    return this.queries.execute(new GetGitProviderQuery(p, id));
  }

  @Patch('git-providers/:providerId')
  @ApiOperation({ summary: 'Change a Git provider connection (secrets given replace the stored ones; If-Match: version)' })
  @ApiOkResponse({ type: GitProviderDto })
  @ApiErrors(400, 403, 409, 412)
  update(@CurrentPrincipal() p: Principal, @Param('providerId', IdPipe) id: string, @Body() dto: UpdateGitProviderDto, @Headers('if-match') ifMatch?: string) {
    return this.commands.execute(new UpdateGitProviderCommand(p, id, given(dto), parseIfMatch(ifMatch)));
  }

  @Post('git-providers/:providerId/test')
  @HttpCode(200)
  @ApiOperation({ summary: "Test the connection: the worker calls the provider's API (after the private-address policy)" })
  @ApiOkResponse({ type: GitProviderTestDto })
  @ApiErrors(403, 503)
  test(@CurrentPrincipal() p: Principal, @Param('providerId', IdPipe) id: string) {
    return this.commands.execute(new TestGitProviderCommand(p, id));
  }

  @Get('git-providers/:providerId/repositories')
  @ApiOperation({ summary: 'Repositories the connection can read (at most 100)' })
  @ApiOkResponse({ type: [ProviderRepositoryDto] })
  @ApiErrors(400, 503)
  repositories(@CurrentPrincipal() p: Principal, @Param('providerId', IdPipe) id: string, @Query() q: ProviderRepositoriesQueryDto) {
    return this.queries.execute(new ListProviderRepositoriesQuery(p, id, q.search));
  }

  @Get('git-providers/:providerId/branches')
  @ApiOperation({ summary: 'Branches of one repository of the connection (at most 100)' })
  @ApiOkResponse({ type: [ProviderBranchDto] })
  @ApiErrors(400, 503)
  branches(@CurrentPrincipal() p: Principal, @Param('providerId', IdPipe) id: string, @Query() q: ProviderBranchesQueryDto) {
    return this.queries.execute(new ListProviderBranchesQuery(p, id, q.repository));
  }

  @Get('git-providers/:providerId/deliveries')
  @ApiOperation({ summary: "The last 100 deliveries of the connection's GitHub App webhook (accepted, ignored or rejected with the reason), newest first" })
  @ApiOkResponse({ type: [GitProviderDeliveryDto] })
  deliveries(@CurrentPrincipal() p: Principal, @Param('providerId', IdPipe) id: string) {
    return this.queries.execute(new ListGitProviderDeliveriesQuery(p, id));
  }

  @Delete('git-providers/:providerId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a Git provider connection that no application source uses' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(403, 409)
  async remove(@CurrentPrincipal() p: Principal, @Param('providerId', IdPipe) id: string): Promise<void> {
    await this.commands.execute(new DeleteGitProviderCommand(p, id));
  }
}
