import { Module } from '@nestjs/common';
import { handlersOf } from '@wharf/core';
import { TenancyModule } from '@wharf/tenancy';
import { DeploymentLifecycle } from './commands/deployment-lifecycle';
import * as registries from './commands/registry.commands';
import * as applications from './commands/application.commands';
import * as deployments from './commands/deployment.commands';
import { EngineTeardownListener } from './listeners/engine-teardown.listener';
import { DeploymentQueueListener } from './listeners/deployment-queue.listener';
import { ApplicationRemovalListener } from './listeners/application-removal.listener';
import { VolumeInventoryModule } from './spec/application-volume-inventory';
import { ListTeardownsHandler, TeardownProgress } from './teardowns/teardowns';


/** Applications from container images, their registries, deployments (queue, lifecycle, logs) and runtime state. */
@Module({
  imports: [TenancyModule, VolumeInventoryModule],
  providers: [EngineTeardownListener, TeardownProgress, ListTeardownsHandler, DeploymentQueueListener, ApplicationRemovalListener, deployments.DeploymentScheduler, DeploymentLifecycle, ...handlersOf(registries), ...handlersOf(applications), ...handlersOf(deployments)],
  exports: [deployments.DeploymentScheduler, DeploymentLifecycle, TeardownProgress],
})
export class ApplicationsModule {}
