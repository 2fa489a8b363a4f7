/** The image builder (port and docker-build adapter), re-exported by the library's index. */
export * from './ports/image-builder.port';
export { DockerBuildAdapter, checkBuildInput } from './adapters/docker-build.adapter';
export type { DockerBuildAdapterOptions } from './adapters/docker-build.adapter';
export { BuildProgressParser } from './adapters/build-progress';
export { checkDockerfilePath, resolveBuildPaths } from './adapters/build-context';
