import { Body, Controller, Delete, Get, Header, HttpCode, NotFoundException, Param, Post, Put } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiAcceptedResponse, ApiExcludeEndpoint, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  AcmeChallengeAnswerQuery,
  GetAcmeSettingsQuery,
  GetDomainDnsCheckQuery,
  GetInstanceTlsQuery,
  ListApplicationCertificatesQuery,
  ListOrganizationCertificatesQuery,
  RemoveCertificateCommand,
  RenewCertificateCommand,
  RenewInstanceCertificateCommand,
  UpdateAcmeSettingsCommand,
  UploadCertificateCommand,
} from '@wharf/routing';
import { Principal } from '@wharf/tenancy';
import { CurrentPrincipal } from '../common/principal.decorator';
import { IdPipe } from '../common/params';
import { ApiErrors } from '../common/api-errors.decorator';
import { Public } from '../common/public.decorator';
import { AcmeSettingsDto, CertificateDto, DnsCheckDto, InstanceTlsDto, RenewQueuedDto, UpdateAcmeSettingsDto, UploadCertificateDto } from './certificates.dto';

@ApiTags('certificates')
@ApiErrors(401, 404)
@Controller()
export class CertificatesController {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus) {}

  @Get('applications/:applicationId/certificates')
  @ApiOperation({ summary: "The certificates of an application's domains (state, issuer, expiry, last attempt and its error)" })
  @ApiOkResponse({ type: [CertificateDto] })
  list(@CurrentPrincipal() p: Principal, @Param('applicationId', IdPipe) applicationId: string) {
    return this.queries.execute(new ListApplicationCertificatesQuery(p, applicationId));
  }

  @Get('organizations/:orgId/certificates')
  @ApiOperation({ summary: 'Every certificate of the organization you can read, soonest expiry first' })
  @ApiOkResponse({ type: [CertificateDto] })
  listOrganization(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string) {
    return this.queries.execute(new ListOrganizationCertificatesQuery(p, orgId));
  }

  @Get('domains/:domainId/dns-check')
  @ApiOperation({ summary: 'Where the host resolves, whether it points at this server, and whether CAA allows the CA' })
  @ApiOkResponse({ type: DnsCheckDto })
  dnsCheck(@CurrentPrincipal() p: Principal, @Param('domainId', IdPipe) id: string) {
    return this.queries.execute(new GetDomainDnsCheckQuery(p, id));
  }

  @Post('domains/:domainId/certificate/renew')
  @HttpCode(202)
  @ApiOperation({ summary: 'Order a certificate from ACME now (clears the backoff of a failed one)' })
  @ApiAcceptedResponse({ type: RenewQueuedDto })
  @ApiErrors(403, 409)
  renew(@CurrentPrincipal() p: Principal, @Param('domainId', IdPipe) id: string) {
    return this.commands.execute(new RenewCertificateCommand(p, id));
  }

  @Put('domains/:domainId/certificate')
  @ApiOperation({ summary: 'Use an uploaded certificate for the domain instead of ACME (key, chain, names and dates are checked)' })
  @ApiOkResponse({ type: CertificateDto })
  @ApiErrors(400, 403, 409)
  upload(@CurrentPrincipal() p: Principal, @Param('domainId', IdPipe) id: string, @Body() dto: UploadCertificateDto) {
    return this.commands.execute(new UploadCertificateCommand(p, id, { certificatePem: dto.certificatePem, privateKeyPem: dto.privateKeyPem }));
  }

  @Delete('domains/:domainId/certificate')
  @HttpCode(204)
  @ApiOperation({ summary: "Remove the domain's certificate (with HTTPS on, a new one is ordered from ACME)" })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiErrors(403, 409)
  async remove(@CurrentPrincipal() p: Principal, @Param('domainId', IdPipe) id: string): Promise<void> {
    await this.commands.execute(new RemoveCertificateCommand(p, id));
  }

  @Get('organizations/:orgId/acme')
  @ApiOperation({ summary: "The organization's ACME account settings" })
  @ApiOkResponse({ type: AcmeSettingsDto })
  acme(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string) {
    return this.queries.execute(new GetAcmeSettingsQuery(p, orgId));
  }

  @Put('organizations/:orgId/acme')
  @ApiOperation({ summary: "Change the organization's ACME contact e-mail or switch to the staging directory" })
  @ApiOkResponse({ type: AcmeSettingsDto })
  @ApiErrors(400, 403)
  setAcme(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string, @Body() dto: UpdateAcmeSettingsDto) {
    return this.commands.execute(new UpdateAcmeSettingsCommand(p, orgId, { email: dto.email, staging: dto.staging, challenge: dto.challenge, dnsProvider: dto.dnsProvider }));
  }
}

/** HTTP-01: Traefik's high-priority router sends `/.well-known/acme-challenge/*` of every host here (outside /api/v1). */
@Public()
@Controller('.well-known/acme-challenge')
export class AcmeChallengeController {
  constructor(private readonly queries: QueryBus) {}

  @Get(':token')
  @ApiExcludeEndpoint()
  @Header('Content-Type', 'text/plain; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  async answer(@Param('token') token: string): Promise<string> {
    const answer = await this.queries.execute(new AcmeChallengeAnswerQuery(token));
    if (answer === null) throw new NotFoundException('Unknown challenge token');
    return answer;
  }
}

/** Wharf's own host behind the edge and its certificate: instance administrators only. */
@ApiTags('certificates')
@ApiErrors(401, 403)
@Controller('instance/tls')
export class InstanceTlsController {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({ summary: "Wharf's own host and the state of its certificate (instance administrators)" })
  @ApiOkResponse({ type: InstanceTlsDto })
  get(@CurrentPrincipal() p: Principal) {
    return this.queries.execute(new GetInstanceTlsQuery(p));
  }

  @Post('renew')
  @HttpCode(202)
  @ApiOperation({ summary: "Order Wharf's own certificate now, or re-read its files (clears the backoff)" })
  @ApiAcceptedResponse({ type: RenewQueuedDto })
  @ApiErrors(409)
  renew(@CurrentPrincipal() p: Principal) {
    return this.commands.execute(new RenewInstanceCertificateCommand(p));
  }
}
