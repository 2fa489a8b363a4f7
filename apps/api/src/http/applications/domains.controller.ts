import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CreateDomainCommand, DeleteDomainCommand, GenerateDomainCommand, GetDomainQuery, ListDomainsQuery, UpdateDomainCommand } from '@wharf/routing';
import { Principal } from '@wharf/tenancy';
import { CurrentPrincipal } from '../common/principal.decorator';
import { IdPipe, parseIfMatch } from '../common/params';
import { ApiErrors } from '../common/api-errors.decorator';
import { CreateDomainDto, DomainDto, UpdateDomainDto } from './domains.dto';

/** The fields a body gave (a DTO instance may carry declared fields as undefined). */
const given = (dto: object): Record<string, unknown> => Object.fromEntries(Object.entries(dto).filter(([, v]) => v !== undefined));

@ApiTags('domains')
@ApiErrors(401, 404)
@Controller()
export class DomainsController {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus) {}

  @Get('applications/:applicationId/domains')
  @ApiOperation({ summary: 'The domains of an application (basic-auth users by name only)' })
  @ApiOkResponse({ type: [DomainDto] })
  list(@CurrentPrincipal() p: Principal, @Param('applicationId', IdPipe) applicationId: string) {
    return this.queries.execute(new ListDomainsQuery(p, applicationId));
  }

  @Post('applications/:applicationId/domains')
  @ApiOperation({ summary: 'Add a domain (routed at the next deployment); a host another organization uses, or a host and path another domain holds, is a 409' })
  @ApiCreatedResponse({ type: DomainDto })
  @ApiErrors(400, 403, 409)
  create(@CurrentPrincipal() p: Principal, @Param('applicationId', IdPipe) applicationId: string, @Body() dto: CreateDomainDto) {
    return this.commands.execute(new CreateDomainCommand(p, applicationId, given(dto)));
  }

  @Post('applications/:applicationId/domains/generate')
  @ApiOperation({ summary: 'Add a generated domain `<app>-<environment>.<wildcard>` on the instance wildcard name (WHARF_WILDCARD_DOMAIN), HTTPS on; 409 when none is configured' })
  @ApiCreatedResponse({ type: DomainDto })
  @ApiErrors(403, 409)
  generate(@CurrentPrincipal() p: Principal, @Param('applicationId', IdPipe) applicationId: string) {
    return this.commands.execute(new GenerateDomainCommand(p, applicationId));
  }

  @Get('domains/:domainId')
  @ApiOperation({ summary: 'One domain (ETag: its version)' })
  @ApiOkResponse({ type: DomainDto, headers: { ETag: { description: 'The version, for If-Match' } } })
  async get(@CurrentPrincipal() p: Principal, @Param('domainId', IdPipe) id: string, @Res({ passthrough: true }) res: Response) {
    const d = await this.queries.execute(new GetDomainQuery(p, id));
    res.setHeader('ETag', `"${d.version}"`);
    return d;
  }

  @Patch('domains/:domainId')
  @ApiOperation({ summary: 'Change a domain (partial; If-Match: version; null removes pathPrefix or rateLimit)' })
  @ApiOkResponse({ type: DomainDto })
  @ApiErrors(400, 403, 409, 412)
  update(@CurrentPrincipal() p: Principal, @Param('domainId', IdPipe) id: string, @Body() dto: UpdateDomainDto, @Headers('if-match') ifMatch?: string) {
    return this.commands.execute(new UpdateDomainCommand(p, id, given(dto), parseIfMatch(ifMatch)));
  }

  @Delete('domains/:domainId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a domain (its route goes at the next deployment)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(403)
  async remove(@CurrentPrincipal() p: Principal, @Param('domainId', IdPipe) id: string): Promise<void> {
    await this.commands.execute(new DeleteDomainCommand(p, id));
  }
}
