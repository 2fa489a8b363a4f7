/**
 * Building an application's image from a source directory. Framework-free; the docker-build adapter implements it
 * through the Engine API (`POST /build`, the context streamed as a tar; no shell, no `docker` CLI).
 *
 * The source tree is the repository's: its Dockerfile path and symbolic links may point anywhere. The builder refuses
 * a Dockerfile path or context that leaves the context (absolute, `..`, through a link) and never follows a link
 * while packing the context, so nothing outside it reaches the engine.
 */

export const IMAGE_BUILDER_PORT = Symbol('ImageBuilderPort');

/** Labels every built image must carry (with `wharf.install` the only ones `removeImages` trusts). */
export const IMAGE_BUILD_REQUIRED_LABELS = ['wharf.install', 'wharf.application', 'wharf.deployment'] as const;

/** Why a build failed, in words a user can act on. */
export type ImageBuildFailureReason =
  /** A path, tag, label or argument was refused before anything was sent to the engine. */
  | 'invalid-input'
  | 'dockerfile-missing'
  | 'context-too-large'
  /** The engine ran the build and a step failed; `step` and `output` say which and what it printed. */
  | 'build-failed'
  | 'timeout'
  | 'cancelled'
  /** Build secrets were asked for and the engine cannot serve them (no BuildKit): they are never passed another way. */
  | 'secrets-unsupported'
  /** The engine could not be reached or answered with an error before building. */
  | 'engine'
  /** The build type needs a tool (nixpacks, railpack, pack) that is not installed on the build host. */
  | 'builder-missing'
  /** `auto` found no Dockerfile and no stack it knows (or the stack lacks what it needs, e.g. a start script). */
  | 'detection-failed';

export class ImageBuildError extends Error {
  constructor(
    message: string,
    readonly reason: ImageBuildFailureReason,
    readonly details: { step?: string; output?: string[] } = {},
  ) {
    super(message);
    this.name = 'ImageBuildError';
  }
}

export interface ImageBuildInput {
  /** Absolute directory whose content is the build context. */
  contextDir: string;
  /**
   * When set (the checkout directory), `contextDir` must be inside it once links are resolved: a build path taken from
   * the repository cannot point the context elsewhere on the host.
   */
  rootDir?: string;
  /**
   * The Dockerfile, relative to `contextDir` (no `..`, not absolute, not a link out of the context); with
   * `generatedFiles`, may name `.wharf-build/<name>` of one of them.
   */
  dockerfile: string;
  /**
   * Files Wharf generated (a Dockerfile, a server configuration: name → content, names `[A-Za-z0-9._-]`), added to the
   * context under `.wharf-build/` (anything the repository has there is left out). They never touch the checkout.
   */
  generatedFiles?: Record<string, string>;
  /** A multi-stage target. */
  target?: string;
  /** Passed as build arguments (never through a shell); visible in the image history, so not for secrets. */
  buildArgs: Record<string, string>;
  /**
   * Build secrets (id → value) for `RUN --mount=type=secret,id=…` steps: never in a layer, the image history or the
   * build arguments; values of 4+ characters are replaced by `[secret]` in the log and the error.
   */
  secrets?: Record<string, string>;
  /** Full references (`name:tag`) the image gets; at least one. */
  tags: string[];
  /** Labels set on the image; must include {@link IMAGE_BUILD_REQUIRED_LABELS}. */
  labels: Record<string, string>;
  /** The whole build (packing the context included) is aborted after this long. */
  deadlineMs: number;
  signal?: AbortSignal;
  /** The build's output, one line at a time. */
  onLog: (line: string) => void;
}

export interface ImageBuildResult {
  /** `sha256:…`, what a deployment pins for rollback. */
  imageId: string;
  tags: string[];
}

export interface RemoveImagesResult {
  /** Ids of removed images (newest first by creation). */
  removed: string[];
  /** Ids kept by the retention (newest `keep.newest`) or because the engine refused (still in use by a container). */
  kept: string[];
  /** Images that could not be removed, with the engine's reason. */
  failed: { imageId: string; message: string }[];
}

/** Tagging a local image for a registry and pushing it (multi-node placements pull it from there). */
export interface ImagePushInput {
  /** The local image (a tag or an id). */
  source: string;
  /** `host[:port]/repository:tag` to push. */
  target: string;
  auth?: { serveraddress: string; username: string; password: string };
  deadlineMs: number;
  signal?: AbortSignal;
  onLog: (line: string) => void;
}

export interface ImageBuilderPort {
  build(input: ImageBuildInput): Promise<ImageBuildResult>;
  /** Tags `source` as `target` and pushes it; the registry's digest of the pushed manifest when it reported one. */
  pushImage(input: ImagePushInput): Promise<{ digest: string | null }>;
  /** Swarm nodes that are ready and active (a placement over more than one needs its image in a registry). */
  activeNodes(): Promise<number>;
  /**
   * Retention: of the images carrying every label in `filterLabels` (which must name `wharf.install`), keeps the newest
   * `keep.newest` and removes the others. Images without those labels are never touched.
   */
  removeImages(filterLabels: Record<string, string>, keep: { newest: number }): Promise<RemoveImagesResult>;
}
