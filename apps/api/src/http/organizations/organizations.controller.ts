import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Put, Query, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiCreatedResponse, ApiHeader, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { AcceptedInvitationDto, CreatedInvitationDto, InvitationPreviewDto, InvitationDto, MemberDto, OkDto, OrganizationDto, RoleDto } from './organization-views.dto';
import { ApiKeyDto, CreatedApiKeyDto } from '../me/me.dto';
import type { Response } from 'express';
import {
  AcceptInvitationCommand, PreviewInvitationQuery, CreateInvitationCommand, CreateOrganizationCommand, CreateRoleCommand, CreateServiceAccountKeyCommand,
  DeleteOrganizationCommand, DeleteRoleCommand, GetOrganizationQuery, ListApiKeysQuery, ListInvitationsQuery, ListMembersQuery,
  ListOrganizationsQuery, ListRolesQuery, OrganizationView, Principal, RemoveMemberCommand, RevokeApiKeyCommand, RevokeInvitationCommand,
  SetContainerPolicyCommand, UpdateMemberCommand, UpdateOrganizationCommand, UpdateRoleCommand,
} from '@wharf/tenancy';
import { CurrentPrincipal, OptionalPrincipal } from '../common/principal.decorator';
import { IdPipe, parseIfMatch, parseRemoveVolumes } from '../common/params';
import { ApiErrors } from '../common/api-errors.decorator';
import { Public } from '../common/public.decorator';
import { AuthedRequest, clientOf } from '../common/auth.guard';
import {
  AcceptInvitationDto, ContainerPolicyDto, CreateInvitationDto, CreateOrganizationDto, CreateRoleDto, CreateServiceAccountKeyDto, UpdateMemberDto,
  UpdateOrganizationDto, UpdateRoleDto,
} from './organizations.dto';
import { Inject, Req } from '@nestjs/common';
import { ValidationError, WHARF_CONFIG, WharfConfig } from '@wharf/core';
import { setSessionCookies } from '../common/cookies';

@ApiTags('organizations')
@ApiErrors(401)
@Controller('organizations')
export class OrganizationsController {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({ summary: 'Organizations you belong to' })
  @ApiOkResponse({ type: [OrganizationDto] })
  list(@CurrentPrincipal() p: Principal): Promise<OrganizationView[]> {
    return this.queries.execute(new ListOrganizationsQuery(p));
  }

  @Post()
  @ApiOperation({ summary: 'Create an organization; you become its owner' })
  @ApiCreatedResponse({ type: OrganizationDto })
  @ApiErrors(400)
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateOrganizationDto): Promise<OrganizationView> {
    return this.commands.execute(new CreateOrganizationCommand(p, dto.name));
  }

  @Get(':orgId')
  @ApiOperation({ summary: 'One organization (ETag: its version)' })
  @ApiOkResponse({ type: OrganizationDto, headers: { ETag: { description: 'The version, for If-Match' } } })
  @ApiErrors(404)
  async get(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string, @Res({ passthrough: true }) res: Response): Promise<OrganizationView> {
    const o: OrganizationView = await this.queries.execute(new GetOrganizationQuery(p, orgId));
    res.setHeader('ETag', `"${o.version}"`);
    return o;
  }

  @Patch(':orgId')
  @ApiOperation({ summary: 'Rename, require 2FA, set audit retention (If-Match: version)' })
  @ApiOkResponse({ type: OrganizationDto })
  @ApiErrors(400, 403, 404, 412)
  update(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string, @Body() dto: UpdateOrganizationDto, @Headers('if-match') ifMatch?: string): Promise<OrganizationView> {
    return this.commands.execute(new UpdateOrganizationCommand(p, orgId, dto, parseIfMatch(ifMatch)));
  }

  @Put(':orgId/container-policy')
  @ApiOperation({ summary: 'Host paths the organization may bind-mount (instance admins only: the local Swarm is shared)' })
  @ApiOkResponse({ type: OrganizationDto })
  @ApiErrors(400, 403, 404)
  setContainerPolicy(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string, @Body() dto: ContainerPolicyDto): Promise<OrganizationView> {
    return this.commands.execute(new SetContainerPolicyCommand(p, orgId, dto));
  }

  @Delete(':orgId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete the organization (owners only)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiQuery({ name: 'removeVolumes', required: false, type: Boolean, description: 'Also remove the named volumes Wharf created in it (data is lost); legacy (unlabelled) volumes are always kept. Default false' })
  @ApiErrors(400, 403, 404)
  async remove(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string, @Query('removeVolumes') removeVolumes?: string): Promise<void> {
    await this.commands.execute(new DeleteOrganizationCommand(p, orgId, parseRemoveVolumes(removeVolumes)));
  }

  @Get(':orgId/members')
  @ApiOperation({ summary: 'Members with their roles and project/environment limits' })
  @ApiOkResponse({ type: [MemberDto] })
  @ApiErrors(404)
  members(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string) {
    return this.queries.execute(new ListMembersQuery(p, orgId));
  }

  @Patch(':orgId/members/:userId')
  @ApiOperation({ summary: "Change a member's role or project/environment limits (never above your own)" })
  @ApiOkResponse({ type: OkDto })
  @ApiErrors(400, 403, 404, 409, 412)
  async updateMember(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string, @Param('userId', IdPipe) userId: string, @Body() dto: UpdateMemberDto, @Headers('if-match') ifMatch?: string): Promise<{ ok: true }> {
    await this.commands.execute(new UpdateMemberCommand(p, orgId, userId, dto, parseIfMatch(ifMatch)));
    return { ok: true };
  }

  @Delete(':orgId/members/:userId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a member, or leave (your own id); the last owner cannot leave' })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiErrors(403, 404, 409)
  async removeMember(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string, @Param('userId', IdPipe) userId: string): Promise<void> {
    await this.commands.execute(new RemoveMemberCommand(p, orgId, userId));
  }

  @Get(':orgId/invitations')
  @ApiOperation({ summary: 'Invitations of the organization (newest first), with their status' })
  @ApiOkResponse({ type: [InvitationDto] })
  @ApiErrors(404)
  invitations(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string) {
    return this.queries.execute(new ListInvitationsQuery(p, orgId));
  }

  @Post(':orgId/invitations')
  @ApiOperation({ summary: 'Invite by email; the single-use token is returned once' })
  @ApiCreatedResponse({ type: CreatedInvitationDto })
  @ApiErrors(400, 403, 404, 409)
  invite(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string, @Body() dto: CreateInvitationDto) {
    return this.commands.execute(new CreateInvitationCommand(p, orgId, dto.email, dto, dto.ttlHours));
  }

  @Delete(':orgId/invitations/:invitationId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a pending invitation' })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiErrors(403, 404)
  async revokeInvitation(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string, @Param('invitationId', IdPipe) id: string): Promise<void> {
    await this.commands.execute(new RevokeInvitationCommand(p, orgId, id));
  }

  @Get(':orgId/roles')
  @ApiOperation({ summary: 'Built-in and custom roles with their permissions' })
  @ApiOkResponse({ type: [RoleDto] })
  @ApiErrors(404)
  roles(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string) {
    return this.queries.execute(new ListRolesQuery(p, orgId));
  }

  @Post(':orgId/roles')
  @ApiOperation({ summary: 'Create a custom role (never with permissions you do not have)' })
  @ApiCreatedResponse({ type: RoleDto })
  @ApiErrors(400, 403, 404, 409)
  createRole(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string, @Body() dto: CreateRoleDto) {
    return this.commands.execute(new CreateRoleCommand(p, orgId, dto));
  }

  @Patch(':orgId/roles/:roleId')
  @ApiOperation({ summary: 'Rename a custom role or change its permissions (If-Match: version)' })
  @ApiOkResponse({ type: RoleDto })
  @ApiErrors(400, 403, 404, 412)
  updateRole(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string, @Param('roleId', IdPipe) roleId: string, @Body() dto: UpdateRoleDto, @Headers('if-match') ifMatch?: string) {
    return this.commands.execute(new UpdateRoleCommand(p, orgId, roleId, dto, parseIfMatch(ifMatch)));
  }

  @Delete(':orgId/roles/:roleId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a custom role (409 while it is still assigned)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors(403, 404, 409)
  async deleteRole(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string, @Param('roleId', IdPipe) roleId: string): Promise<void> {
    await this.commands.execute(new DeleteRoleCommand(p, orgId, roleId));
  }

  @Get(':orgId/api-keys')
  @ApiOperation({ summary: 'Service-account API keys of the organization' })
  @ApiOkResponse({ type: [ApiKeyDto] })
  @ApiErrors(404)
  apiKeys(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string) {
    return this.queries.execute(new ListApiKeysQuery(p, orgId));
  }

  @Post(':orgId/api-keys')
  @ApiOperation({ summary: 'Create a service-account key with a role and scopes; the key is returned once' })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  @ApiErrors(400, 403, 404)
  createApiKey(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string, @Body() dto: CreateServiceAccountKeyDto) {
    return this.commands.execute(new CreateServiceAccountKeyCommand(p, orgId, dto));
  }

  @Delete(':orgId/api-keys/:keyId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a service-account key' })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiErrors(403, 404)
  async revokeApiKey(@CurrentPrincipal() p: Principal, @Param('orgId', IdPipe) orgId: string, @Param('keyId', IdPipe) keyId: string): Promise<void> {
    await this.commands.execute(new RevokeApiKeyCommand(p, orgId, keyId));
  }
}

@ApiTags('organizations')
@Controller('invitations')
export class InvitationsController {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus, @Inject(WHARF_CONFIG) private readonly config: WharfConfig) {}

  /** The token travels in a header, not the URL, so that it never lands in access logs. */
  @Public()
  @Get('preview')
  @ApiOperation({ summary: 'What an invitation offers (organization name, invited email, role), for the holder of its token' })
  @ApiHeader({ name: 'x-invitation-token', required: true, description: 'The token from the invitation link (X-Invitation-Token)' })
  @ApiOkResponse({ type: InvitationPreviewDto })
  @ApiErrors(400, 404)
  preview(@Headers('x-invitation-token') token?: string) {
    if (!token || token.length < 10 || token.length > 200) throw ValidationError.field('/headers/x-invitation-token', 'length', 'the invitation token is missing or malformed');
    return this.queries.execute(new PreviewInvitationQuery(token));
  }

  @Public()
  @Post('accept')
  @HttpCode(200)
  @ApiOperation({ summary: 'Accept an invitation: signed in with the invited email, or create an account with name and password' })
  @ApiOkResponse({ type: AcceptedInvitationDto })
  @ApiErrors(400, 401, 403, 404, 409)
  async accept(@OptionalPrincipal() p: Principal | null, @Body() dto: AcceptInvitationDto, @Req() req: AuthedRequest, @Res({ passthrough: true }) res: Response) {
    const r = await this.commands.execute(new AcceptInvitationCommand(dto.token, p, { name: dto.name, password: dto.password }, clientOf(req)));
    if (r.tokens) setSessionCookies(res, this.config, r.tokens);
    return r;
  }
}
