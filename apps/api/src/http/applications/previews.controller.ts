import { Body, Controller, Get, Headers, HttpCode, Param, ParseIntPipe, Post, Put, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApprovePreviewCommand, GetPreviewSettingsQuery, ListPreviewsQuery, SetPreviewSettingsCommand } from '@wharf/sources';
import { Principal } from '@wharf/tenancy';
import { CurrentPrincipal } from '../common/principal.decorator';
import { IdPipe, parseIfMatch } from '../common/params';
import { ApiErrors } from '../common/api-errors.decorator';
import { ApprovePreviewDto, PreviewDto, PreviewSettingsDto, SetPreviewSettingsDto } from './previews.dto';

const given = (dto: object): Record<string, unknown> => Object.fromEntries(Object.entries(dto).filter(([, v]) => v !== undefined));

@ApiTags('previews')
@ApiErrors(401, 404)
@Controller('applications/:applicationId/previews')
export class PreviewsController {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({ summary: "The application's pull request previews (state, head commit, URL, deployment), newest first" })
  @ApiOkResponse({ type: [PreviewDto] })
  list(@CurrentPrincipal() p: Principal, @Param('applicationId', IdPipe) applicationId: string) {
    return this.queries.execute(new ListPreviewsQuery(p, applicationId));
  }

  @Get('settings')
  @ApiOperation({ summary: 'Preview settings (ETag: their version; secret overrides never returned)' })
  @ApiOkResponse({ type: PreviewSettingsDto, headers: { ETag: { description: 'The version, for If-Match' } } })
  async settings(@CurrentPrincipal() p: Principal, @Param('applicationId', IdPipe) applicationId: string, @Res({ passthrough: true }) res: Response) {
    const s = await this.queries.execute(new GetPreviewSettingsQuery(p, applicationId));
    res.setHeader('ETag', `"${s.version}"`);
    return s;
  }

  @Put('settings')
  @ApiOperation({ summary: 'Set the preview settings (enabled, wildcard domain, port, HTTPS, variable overrides, limit); If-Match: version' })
  @ApiOkResponse({ type: PreviewSettingsDto })
  @ApiErrors(400, 403, 409, 412)
  setSettings(@CurrentPrincipal() p: Principal, @Param('applicationId', IdPipe) applicationId: string, @Body() dto: SetPreviewSettingsDto, @Headers('if-match') ifMatch?: string) {
    return this.commands.execute(new SetPreviewSettingsCommand(p, applicationId, given(dto), parseIfMatch(ifMatch)));
  }

  @Post(':number/approve')
  @HttpCode(200)
  @ApiOperation({ summary: "Approve a preview that awaits an approval (a fork, or an author without write access): its head commit deploys (audited)" })
  @ApiOkResponse({ type: PreviewDto })
  @ApiErrors(400, 403, 409)
  approve(@CurrentPrincipal() p: Principal, @Param('applicationId', IdPipe) applicationId: string, @Param('number', ParseIntPipe) number: number, @Body() dto: ApprovePreviewDto) {
    return this.commands.execute(new ApprovePreviewCommand(p, applicationId, number, dto.commit));
  }
}
