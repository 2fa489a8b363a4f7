import { Module } from '@nestjs/common';
import { handlersOf } from '@wharf/core';
import { TenancyModule } from '@wharf/tenancy';
import * as projects from './projects/project.commands';
import * as environments from './environments/environment.commands';
import * as variables from './variables/variable.commands';


/** Projects, their environments, and variables at both levels (secrets encrypted at rest, revealed only on request). */
@Module({
  imports: [TenancyModule],
  providers: [...handlersOf(projects), ...handlersOf(environments), ...handlersOf(variables)],
})
export class ProjectsModule {}
