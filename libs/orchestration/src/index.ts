export * from './ports/swarm.port';
export { validateSpecForHost } from './swarm/validate-spec-for-host';
export { toDockerServiceSpec, msToNs } from './swarm/docker-service-spec';
export type { DockerServiceSpec } from './swarm/docker-service-spec';
export { parseLogFrames } from './adapters/docker-log-frames';
export { DockerodeSwarmAdapter, SwarmEngineError, SwarmSpecRejectedError, splitReference } from './adapters/dockerode-swarm.adapter';
export type { DockerodeSwarmAdapterOptions } from './adapters/dockerode-swarm.adapter';
