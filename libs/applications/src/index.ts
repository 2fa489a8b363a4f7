import { ApplicationEntity, ApplicationVariableEntity } from './entities/application.entity';
import { ApplicationRuntimeEntity, DeploymentEntity, DeploymentLogEntity } from './entities/deployment.entity';
import { RegistryEntity } from './entities/registry.entity';
import { ServerEntity } from './entities/server.entity';
import { ApplicationSourceEntity } from './entities/application-source.entity';
import { GitProviderEntity } from './entities/git-provider.entity';

export * from './entities/application.entity';
export * from './entities/deployment.entity';
export * from './entities/registry.entity';
export * from './entities/server.entity';
export * from './entities/application-source.entity';
export * from './entities/git-provider.entity';
export * from './spec/image-reference';
export * from './spec/application-spec';
export * from './spec/volume-names';
export * from './spec/application-volume-inventory';
export * from './spec/env-resolution';
export * from './spec/deployment-drift';
export * from './commands/registry.commands';
export * from './commands/application.commands';
export * from './commands/port-reservations';
export * from './commands/deployment.commands';
export * from './commands/deployment-lifecycle';
export * from './teardowns/teardowns';
export * from './applications.module';

export const APPLICATIONS_ENTITIES = [ApplicationSourceEntity, GitProviderEntity, ServerEntity, RegistryEntity, ApplicationEntity, ApplicationVariableEntity, DeploymentEntity, DeploymentLogEntity, ApplicationRuntimeEntity];
