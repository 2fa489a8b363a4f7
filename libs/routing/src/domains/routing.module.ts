import { Module } from '@nestjs/common';
import { handlersOf } from '@wharf/core';
import { TenancyModule } from '@wharf/tenancy';
import * as domains from './domain.commands';

/** Domains of applications (commands and queries); the worker renders them into Traefik files. */
@Module({
  imports: [TenancyModule],
  providers: [...handlersOf(domains)],
})
export class RoutingModule {}
