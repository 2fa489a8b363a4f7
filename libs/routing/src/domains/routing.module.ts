import { Module } from '@nestjs/common';
import { handlersOf } from '@wharf/core';
import { TenancyModule } from '@wharf/tenancy';
import * as domains from './domain.commands';
import * as certificates from '../certificates/certificate.commands';
import { CertificateListener } from '../certificates/certificate.listener';
import * as instanceCertificates from '../certificates/instance-certificate.commands';

/** Domains of applications (commands and queries); the worker renders them into Traefik files. */
@Module({
  imports: [TenancyModule],
  providers: [...handlersOf(domains), ...handlersOf(certificates), ...handlersOf(instanceCertificates), CertificateListener, instanceCertificates.InstanceCertificateListener],
})
export class RoutingModule {}
