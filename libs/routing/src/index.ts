// Public surface of the routing lib: domain specs (validation, bcrypt), the Traefik v3 file-provider renderer (pure:
// no Nest, no database), and the domains of applications (entity, commands and queries, RoutingModule).
// The API validates with it and the worker renders and writes through ProxyConfigPort.
import { DomainEntity } from './domains/domain.entity';
import { AcmeSettingsEntity, CertificateEntity, InstanceCertificateEntity } from './certificates/certificate.entity';

export * from './domain-spec';
export * from './basic-auth';
export * from './traefik/traefik-config';
export * from './domains/domain.entity';
export * from './domains/domain.commands';
export * from './domains/routing.module';
export * from './certificates/certificate.entity';
export * from './certificates/certificate-checks';
export * from './certificates/certificate.commands';
export * from './certificates/instance-certificate.commands';

export const ROUTING_ENTITIES = [DomainEntity, CertificateEntity, AcmeSettingsEntity, InstanceCertificateEntity];
