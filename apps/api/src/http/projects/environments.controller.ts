import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Put, Query, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { parsePage } from '@wharf/core';
import type { Principal } from '@wharf/tenancy';
import {
  DeleteEnvironmentCommand, DeleteVariableCommand, EnvironmentView, GetEnvironmentQuery, ListVariablesQuery, RevealVariableCommand,
  UpdateEnvironmentCommand, UpsertVariablesCommand,
} from '@wharf/projects';
import { CurrentPrincipal } from '../common/principal.decorator';
import { IdPipe, parseIfMatch, parseRemoveVolumes } from '../common/params';
import { ApiErrors } from '../common/api-errors.decorator';
import { EnvironmentDto, RevealedVariableDto, UpdateEnvironmentDto, UpsertVariablesDto, VariableListDto, VariablePageDto } from './projects.dto';
import { variablesOf } from './variables.body';
import { Paged } from './projects.controller';

@ApiTags('environments')
@ApiErrors(401)
@Controller('environments')
export class EnvironmentsController {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus) {}

  @Get(':id')
  @ApiOkResponse({ type: EnvironmentDto, headers: { ETag: { description: 'The version, for If-Match' } } })
  @ApiErrors(404)
  async get(@CurrentPrincipal() p: Principal, @Param('id', IdPipe) id: string, @Res({ passthrough: true }) res: Response): Promise<EnvironmentView> {
    const x: EnvironmentView = await this.queries.execute(new GetEnvironmentQuery(p, id));
    res.setHeader('ETag', `"${x.version}"`);
    return x;
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Rename an environment (the slug is immutable); If-Match: version' })
  @ApiOkResponse({ type: EnvironmentDto })
  @ApiErrors(400, 403, 404, 412)
  async update(@CurrentPrincipal() p: Principal, @Param('id', IdPipe) id: string, @Body() dto: UpdateEnvironmentDto, @Res({ passthrough: true }) res: Response, @Headers('if-match') ifMatch?: string): Promise<EnvironmentView> {
    const x: EnvironmentView = await this.commands.execute(new UpdateEnvironmentCommand(p, id, dto, parseIfMatch(ifMatch)));
    res.setHeader('ETag', `"${x.version}"`);
    return x;
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an environment and its variables; the last environment of a project cannot be deleted (409)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiQuery({ name: 'removeVolumes', required: false, type: Boolean, description: 'Also remove the named volumes Wharf created in it (data is lost); legacy (unlabelled) volumes are always kept. Default false' })
  @ApiErrors(400, 403, 404, 409)
  async remove(@CurrentPrincipal() p: Principal, @Param('id', IdPipe) id: string, @Query('removeVolumes') removeVolumes?: string): Promise<void> {
    await this.commands.execute(new DeleteEnvironmentCommand(p, id, parseRemoveVolumes(removeVolumes)));
  }

  @Get(':id/variables')
  @ApiOperation({ summary: 'Variables of this environment (they override project variables); secret values are null' })
  @Paged()
  @ApiOkResponse({ type: VariablePageDto })
  @ApiErrors(400, 403, 404)
  variables(@CurrentPrincipal() p: Principal, @Param('id', IdPipe) id: string, @Query('limit') limit?: string, @Query('cursor') cursor?: string) {
    return this.queries.execute(new ListVariablesQuery(p, { kind: 'environment', id }, parsePage(limit, cursor)));
  }

  @Put(':id/variables')
  @ApiOperation({ summary: 'Create or update one variable ({key, value, secret}) or many ({variables: [...]})' })
  @ApiOkResponse({ type: VariableListDto })
  @ApiErrors(400, 403, 404)
  putVariables(@CurrentPrincipal() p: Principal, @Param('id', IdPipe) id: string, @Body() dto: UpsertVariablesDto) {
    const { items, pointerOf } = variablesOf(dto);
    return this.commands.execute(new UpsertVariablesCommand(p, { kind: 'environment', id }, items, pointerOf));
  }

  @Delete(':id/variables/:key')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(403, 404)
  async deleteVariable(@CurrentPrincipal() p: Principal, @Param('id', IdPipe) id: string, @Param('key') key: string): Promise<void> {
    await this.commands.execute(new DeleteVariableCommand(p, { kind: 'environment', id }, key));
  }

  @Post(':id/variables/:key/reveal')
  @HttpCode(200)
  @ApiOperation({ summary: "Return a variable's clear value (permission variable:reveal; audited)" })
  @ApiOkResponse({ type: RevealedVariableDto })
  @ApiErrors(403, 404)
  reveal(@CurrentPrincipal() p: Principal, @Param('id', IdPipe) id: string, @Param('key') key: string) {
    return this.commands.execute(new RevealVariableCommand(p, { kind: 'environment', id }, key));
  }
}
