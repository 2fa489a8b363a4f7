import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { pipeline } from 'node:stream/promises';
import {
  AuditEventView, AuditExport, AuditVerifyResult, ExportAuditEventsCommand, GetAuditEventQuery, ListAuditEventsQuery, VerifyAuditChainQuery,
} from '@wharf/audit';
import type { Page } from '@wharf/core';
import type { Principal } from '@wharf/tenancy';
import { CurrentPrincipal } from '../common/principal.decorator';
import { IdPipe } from '../common/params';
import { ApiErrors } from '../common/api-errors.decorator';
import { AuditEventDto, AuditEventPageDto, AuditVerifyDto, ExportAuditEventsQueryDto, ListAuditEventsQueryDto } from './audit-events.dto';

/** Streams an export to the response with backpressure; an aborted download stops reading the database. */
async function sendExport(res: Response, out: AuditExport): Promise<void> {
  res.status(200);
  res.setHeader('Content-Type', out.contentType);
  res.setHeader('Content-Disposition', `attachment; filename="${out.filename}"`);
  res.setHeader('Cache-Control', 'no-store');
  try {
    await pipeline(out.stream, res);
  } catch {
    if (!res.destroyed) res.destroy();
  }
}

const listQuery = (p: Principal, orgId: string | null, q: ListAuditEventsQueryDto) =>
  new ListAuditEventsQuery(p, orgId, { actor: q.actor, action: q.action, subjectType: q.subjectType, subjectId: q.subjectId, outcome: q.outcome, from: q.from, to: q.to }, q.limit, q.cursor);

/** The export narrows by the same filters as the list, so the download holds what the screen shows. */
const exportFilter = (q: ExportAuditEventsQueryDto) => ({ actor: q.actor, action: q.action, subjectType: q.subjectType, subjectId: q.subjectId, outcome: q.outcome, from: q.from, to: q.to });

@ApiTags('audit')
@ApiErrors(401)
@Controller('organizations/:orgId/audit-events')
export class AuditEventsController {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({ summary: "The organization's audit log, newest first, with filters and cursor pagination" })
  @ApiOkResponse({ type: AuditEventPageDto })
  @ApiErrors(400, 403, 404)
  list(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string, @Query() q: ListAuditEventsQueryDto): Promise<Page<AuditEventView>> {
    return this.queries.execute(listQuery(p, orgId, q));
  }

  @Get('verify')
  @ApiOperation({ summary: "Recompute the organization's hash chain (from the oldest retained entry)" })
  @ApiOkResponse({ type: AuditVerifyDto })
  @ApiErrors(403, 404)
  verify(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string): Promise<AuditVerifyResult> {
    return this.queries.execute(new VerifyAuditChainQuery(p, orgId));
  }

  @Get('export')
  @ApiOperation({ summary: 'Download the audit log as CSV or NDJSON (streamed, oldest first); the export is itself audited' })
  @ApiProduces('text/csv', 'application/x-ndjson')
  @ApiOkResponse({ description: 'The entries as an attachment', content: { 'text/csv': { schema: { type: 'string' } }, 'application/x-ndjson': { schema: { type: 'string' } } } })
  @ApiErrors(400, 403, 404)
  async export(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string, @Query() q: ExportAuditEventsQueryDto, @Res() res: Response): Promise<void> {
    const out: AuditExport = await this.commands.execute(new ExportAuditEventsCommand(p, orgId, q.format, exportFilter(q)));
    await sendExport(res, out);
  }

  @Get(':id')
  @ApiOkResponse({ type: AuditEventDto })
  @ApiErrors(403, 404)
  get(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string, @Param('id', IdPipe) id: string): Promise<AuditEventView> {
    return this.queries.execute(new GetAuditEventQuery(p, orgId, id));
  }
}

/** The instance-level chain (sign-ins, setup, organization deletions): instance admins only. */
@ApiTags('audit')
@ApiErrors(401)
@Controller('audit-events')
export class InstanceAuditEventsController {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({ summary: 'The instance audit log (instance admins), newest first' })
  @ApiOkResponse({ type: AuditEventPageDto })
  @ApiErrors(400, 403)
  list(@CurrentPrincipal() p: Principal, @Query() q: ListAuditEventsQueryDto): Promise<Page<AuditEventView>> {
    return this.queries.execute(listQuery(p, null, q));
  }

  @Get('verify')
  @ApiOkResponse({ type: AuditVerifyDto })
  @ApiErrors(403)
  verify(@CurrentPrincipal() p: Principal): Promise<AuditVerifyResult> {
    return this.queries.execute(new VerifyAuditChainQuery(p, null));
  }

  @Get('export')
  @ApiProduces('text/csv', 'application/x-ndjson')
  @ApiOkResponse({ description: 'The entries as an attachment', content: { 'text/csv': { schema: { type: 'string' } }, 'application/x-ndjson': { schema: { type: 'string' } } } })
  @ApiErrors(400, 403)
  async export(@CurrentPrincipal() p: Principal, @Query() q: ExportAuditEventsQueryDto, @Res() res: Response): Promise<void> {
    const out: AuditExport = await this.commands.execute(new ExportAuditEventsCommand(p, null, q.format, exportFilter(q)));
    await sendExport(res, out);
  }

  @Get(':id')
  @ApiOkResponse({ type: AuditEventDto })
  @ApiErrors(403, 404)
  get(@CurrentPrincipal() p: Principal, @Param('id', IdPipe) id: string): Promise<AuditEventView> {
    return this.queries.execute(new GetAuditEventQuery(p, null, id));
  }
}
