import { ProjectEntity } from './entities/project.entity';
import { EnvironmentEntity } from './entities/environment.entity';
import { VariableEntity } from './entities/variable.entity';

export * from './entities/project.entity';
export * from './entities/environment.entity';
export * from './entities/variable.entity';
export * from './events/project-events';
export * from './projects/project.commands';
export * from './environments/environment.commands';
export * from './variables/variable.commands';
export * from './projects.module';

export const PROJECTS_ENTITIES = [ProjectEntity, EnvironmentEntity, VariableEntity];
