import { readFileSync } from 'node:fs';
import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { JobRegistry } from './jobs/job-registry';
import { OutboxMaintenance } from './jobs/outbox-maintenance';
import { UploadRetention } from './jobs/upload-retention';
import { ApplicationsModule } from '@wharf/applications';
import { WHARF_CONFIG, WharfConfig } from '@wharf/core';
import { ACME_PORT, AcmeClientAdapter, checkGitHost, DockerBuildAdapter, DockerodeSwarmAdapter, GIT_PORT, GIT_PROVIDER_PORT, GitCliAdapter, GitProviderHttpAdapter, IMAGE_BUILDER_PORT, PROXY_CONFIG_PORT, SWARM_PORT } from '@wharf/orchestration';
import { CertificateIssuer } from './certificates/certificate-issuer';
import { GitProviderRpcHandlers } from './git-providers/git-provider-rpc';
import { CommitStatusJob } from './git-providers/commit-status.job';
import { ProviderConnections } from './git-providers/provider-connections';
import { AcmeHttp01 } from './certificates/acme-http01';
import { InstanceTls } from './certificates/instance-tls';
import { ApplicationRouting, LazyTraefikFiles } from './routing/application-routing';
import { DeploymentRunner } from './deployments/deployment.runner';
import { SourceBuild } from './deployments/source-build';
import { UploadSource } from './deployments/upload-source';
import { RuntimeReconciler } from './deployments/runtime.reconciler';
import { DeploymentWatchdog } from './deployments/deployment.watchdog';
import { RpcServer } from './rpc/rpc-server';
import { WorkerRpcHandlers } from './rpc/worker-rpc-handlers';
import { EngineTeardownProcessor } from './teardown/engine-teardown.processor';
import { EdgeProxy } from './edge/edge-proxy';

/** The worker role: job processors. Imported by the `worker` and `all` roles only. */
@Module({
  imports: [DiscoveryModule, ApplicationsModule],
  providers: [
    JobRegistry,
    OutboxMaintenance,
    UploadRetention,
    UploadSource,
    { provide: SWARM_PORT, inject: [WHARF_CONFIG], useFactory: (c: WharfConfig) => new DockerodeSwarmAdapter({ socketPath: c.dockerSocket }) },
    // Traefik's dynamic files in WHARF_TRAEFIK_DIR (default <WHARF_DATA_DIR>/traefik/dynamic), one per application.
    { provide: PROXY_CONFIG_PORT, useClass: LazyTraefikFiles },
    ApplicationRouting,
    // The edge: organizations' edge networks and this install's Traefik service on them.
    EdgeProxy,
    // ACME certificates (acme-client); WHARF_ACME_CA_FILE adds a private CA's certificates to the trusted ones.
    { provide: ACME_PORT, inject: [WHARF_CONFIG], useFactory: (c: WharfConfig) => new AcmeClientAdapter({ caPem: c.acme.caPem, backoffMinMs: c.nodeEnv === 'test' ? 100 : 1000 }) },
    AcmeHttp01,
    CertificateIssuer,
    // Wharf's own host (an https WHARF_PUBLIC_URL) behind the edge, with its certificate.
    InstanceTls,
    // Git sources: git from argument arrays with the SSRF host policy; images built through the Engine API.
    {
      provide: GIT_PORT,
      inject: [WHARF_CONFIG],
      useFactory: (c: WharfConfig) =>
        new GitCliAdapter({ hostPolicy: (host) => checkGitHost(host, { allowPrivate: c.sources.allowPrivateHosts }), ...(c.sources.caFile ? { caFile: c.sources.caFile } : {}) }),
    },
    // Git provider APIs (GitHub App, GitLab, Gitea, Bitbucket) over node:https, behind the same host policy and CA file.
    {
      provide: GIT_PROVIDER_PORT,
      inject: [WHARF_CONFIG],
      useFactory: (c: WharfConfig) =>
        new GitProviderHttpAdapter({ hostPolicy: (host) => checkGitHost(host, { allowPrivate: c.sources.allowPrivateHosts }), ...(c.sources.caFile ? { ca: readFileSync(c.sources.caFile) } : {}) }),
    },
    { provide: IMAGE_BUILDER_PORT, inject: [WHARF_CONFIG], useFactory: (c: WharfConfig) => new DockerBuildAdapter({ socketPath: c.dockerSocket }) },
    SourceBuild,
    DeploymentRunner,
    RuntimeReconciler,
    DeploymentWatchdog,
    EngineTeardownProcessor,
    RpcServer,
    WorkerRpcHandlers,
    ProviderConnections,
    GitProviderRpcHandlers,
    CommitStatusJob,
  ],
})
export class WorkerModule {}
