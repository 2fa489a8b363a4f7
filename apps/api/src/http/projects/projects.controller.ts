import { applyDecorators, Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Put, Query, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiCreatedResponse, ApiHeader, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { parsePage } from '@wharf/core';
import type { Principal } from '@wharf/tenancy';
import {
  CreateEnvironmentCommand, CreateProjectCommand, DeleteProjectCommand, DeleteVariableCommand, ListEnvironmentsQuery, ListProjectsQuery,
  GetProjectQuery, ListVariablesQuery, ProjectView, RevealVariableCommand, UpdateProjectCommand, UpsertVariablesCommand,
} from '@wharf/projects';
import { ListTeardownsQuery, parseTeardownFilter } from '@wharf/applications';
import { CurrentPrincipal } from '../common/principal.decorator';
import { IdPipe, parseIfMatch, parseRemoveVolumes } from '../common/params';
import { ApiErrors } from '../common/api-errors.decorator';
import {
  CreatedProjectDto, CreateEnvironmentDto, CreateProjectDto, DeleteProjectDto, EnvironmentDto, EnvironmentPageDto, ProjectDto, ProjectPageDto,
  RevealedVariableDto, UpdateProjectDto, UpsertVariablesDto, VariableListDto, VariablePageDto,
} from './projects.dto';
import { variablesOf } from './variables.body';
import { TeardownListDto } from './teardowns.dto';

/** Documents the `limit` / `cursor` query of a paginated list. */
export const Paged = (): MethodDecorator =>
  applyDecorators(ApiQuery({ name: 'limit', required: false, description: '1–200, default 50' }), ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' }));

@ApiTags('projects')
@ApiErrors(401)
@Controller()
export class ProjectsController {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus) {}

  @Get('organizations/:orgId/projects')
  @ApiOperation({ summary: 'Projects of the organization you may see, by name' })
  @Paged()
  @ApiOkResponse({ type: ProjectPageDto })
  @ApiErrors(400, 404)
  list(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string, @Query('limit') limit?: string, @Query('cursor') cursor?: string) {
    return this.queries.execute(new ListProjectsQuery(p, orgId, parsePage(limit, cursor)));
  }

  @Get('organizations/:orgId/teardowns')
  @ApiTags('teardowns')
  @ApiOperation({ summary: 'Recent engine teardowns of deleted projects and environments (newest first): what is being removed, what was, or why it failed. Scoped like projects' })
  @ApiQuery({ name: 'limit', required: false, description: '1–100, default 20' })
  @ApiQuery({ name: 'projectId', required: false, description: 'Only the teardowns of this project and its environments' })
  @ApiOkResponse({ type: TeardownListDto })
  @ApiErrors(400, 404)
  teardowns(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string, @Query('limit') limit?: string, @Query('projectId') projectId?: string) {
    return this.queries.execute(new ListTeardownsQuery(p, orgId, parseTeardownFilter(limit, projectId)));
  }

  @Post('organizations/:orgId/projects')
  @ApiOperation({ summary: 'Create a project; it starts with a production environment' })
  @ApiCreatedResponse({ type: CreatedProjectDto })
  @ApiErrors(400, 403, 404, 409)
  create(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string, @Body() dto: CreateProjectDto) {
    return this.commands.execute(new CreateProjectCommand(p, orgId, dto));
  }

  @Get('projects/:id')
  @ApiOkResponse({ type: ProjectDto, headers: { ETag: { description: 'The version, for If-Match' } } })
  @ApiErrors(404)
  async get(@CurrentPrincipal() p: Principal, @Param('id', IdPipe) id: string, @Res({ passthrough: true }) res: Response): Promise<ProjectView> {
    const x: ProjectView = await this.queries.execute(new GetProjectQuery(p, id));
    res.setHeader('ETag', `"${x.version}"`);
    return x;
  }

  @Patch('projects/:id')
  @ApiOperation({ summary: 'Rename or describe a project (the slug is immutable); If-Match: version' })
  @ApiOkResponse({ type: ProjectDto })
  @ApiErrors(400, 403, 404, 412)
  async update(@CurrentPrincipal() p: Principal, @Param('id', IdPipe) id: string, @Body() dto: UpdateProjectDto, @Res({ passthrough: true }) res: Response, @Headers('if-match') ifMatch?: string): Promise<ProjectView> {
    const x: ProjectView = await this.commands.execute(new UpdateProjectCommand(p, id, dto, parseIfMatch(ifMatch)));
    res.setHeader('ETag', `"${x.version}"`);
    return x;
  }

  @Delete('projects/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a project with its environments and variables; confirm with its slug (X-Confirm header or body confirm)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiHeader({ name: 'X-Confirm', required: false, description: "The project's slug" })
  @ApiQuery({ name: 'removeVolumes', required: false, type: Boolean, description: 'Also remove the named volumes Wharf created in it (data is lost); legacy (unlabelled) volumes are always kept. Default false' })
  @ApiErrors(400, 403, 404)
  async remove(
    @CurrentPrincipal() p: Principal,
    @Param('id', IdPipe) id: string,
    @Body() dto: DeleteProjectDto,
    @Headers('x-confirm') confirmHeader?: string,
    @Query('removeVolumes') removeVolumes?: string,
  ): Promise<void> {
    await this.commands.execute(new DeleteProjectCommand(p, id, confirmHeader ?? dto?.confirm, parseRemoveVolumes(removeVolumes)));
  }

  @Get('projects/:id/environments')
  @Paged()
  @ApiOkResponse({ type: EnvironmentPageDto })
  @ApiErrors(400, 404)
  environments(@CurrentPrincipal() p: Principal, @Param('id', IdPipe) id: string, @Query('limit') limit?: string, @Query('cursor') cursor?: string) {
    return this.queries.execute(new ListEnvironmentsQuery(p, id, parsePage(limit, cursor)));
  }

  @Post('projects/:id/environments')
  @ApiOperation({ summary: 'Add an environment to the project' })
  @ApiCreatedResponse({ type: EnvironmentDto })
  @ApiErrors(400, 403, 404, 409)
  createEnvironment(@CurrentPrincipal() p: Principal, @Param('id', IdPipe) id: string, @Body() dto: CreateEnvironmentDto) {
    return this.commands.execute(new CreateEnvironmentCommand(p, id, dto));
  }

  @Get('projects/:id/variables')
  @ApiOperation({ summary: 'Project variables (shared by its environments); secret values are null' })
  @Paged()
  @ApiOkResponse({ type: VariablePageDto })
  @ApiErrors(400, 403, 404)
  variables(@CurrentPrincipal() p: Principal, @Param('id', IdPipe) id: string, @Query('limit') limit?: string, @Query('cursor') cursor?: string) {
    return this.queries.execute(new ListVariablesQuery(p, { kind: 'project', id }, parsePage(limit, cursor)));
  }

  @Put('projects/:id/variables')
  @ApiOperation({ summary: 'Create or update one variable ({key, value, secret}) or many ({variables: [...]})' })
  @ApiOkResponse({ type: VariableListDto })
  @ApiErrors(400, 403, 404)
  putVariables(@CurrentPrincipal() p: Principal, @Param('id', IdPipe) id: string, @Body() dto: UpsertVariablesDto) {
    const { items, pointerOf } = variablesOf(dto);
    return this.commands.execute(new UpsertVariablesCommand(p, { kind: 'project', id }, items, pointerOf));
  }

  @Delete('projects/:id/variables/:key')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(403, 404)
  async deleteVariable(@CurrentPrincipal() p: Principal, @Param('id', IdPipe) id: string, @Param('key') key: string): Promise<void> {
    await this.commands.execute(new DeleteVariableCommand(p, { kind: 'project', id }, key));
  }

  @Post('projects/:id/variables/:key/reveal')
  @HttpCode(200)
  @ApiOperation({ summary: "Return a variable's clear value (permission variable:reveal; audited)" })
  @ApiOkResponse({ type: RevealedVariableDto })
  @ApiErrors(403, 404)
  reveal(@CurrentPrincipal() p: Principal, @Param('id', IdPipe) id: string, @Param('key') key: string) {
    return this.commands.execute(new RevealVariableCommand(p, { kind: 'project', id }, key));
  }
}
