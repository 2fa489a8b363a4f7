/**
 * Build plans for Git applications: what the `static` and `auto` build types turn a checkout into. Pure (no Node APIs):
 * the worker probes the build path (top-level names, package.json) and hands the probe here; the result is the
 * Dockerfile (and files) Wharf generates, sent to the engine inside the build context under `.wharf-build/` — never
 * written into the checkout and never run through a shell (every RUN/CMD is in exec form, every path is an allow-listed
 * relative path from @wharf/contracts or a name Wharf chose).
 *
 * Base images are configurable (WHARF_BUILD_IMAGE_NODE, …_PYTHON, …_GO, …_STATIC) and can be overridden per build
 * with the build argument of the same name (`ARG WHARF_BUILD_IMAGE_NODE=…` before `FROM`).
 */
import { checkRelativePath, GENERATED_IMAGE_PORT } from '@wharf/contracts';

/** Where generated files sit inside the build context. */
export const GENERATED_DIR = '.wharf-build';
export const GENERATED_DOCKERFILE = `${GENERATED_DIR}/Dockerfile`;

export interface BuildBaseImages {
  node: string;
  python: string;
  go: string;
  static: string;
}

export const DEFAULT_BUILD_BASE_IMAGES: BuildBaseImages = { node: 'node:22-alpine', python: 'python:3.12-slim', go: 'golang:1.23-alpine', static: 'busybox:1.37' };

/** What the worker saw at the top of the build path. */
export interface RepoProbe {
  /** Names of the regular files at the top of the build path. */
  files: readonly string[];
  /** package.json's text when there is one (at most 1 MiB). */
  packageJson?: string | null;
  /** Whether the configured Dockerfile (which may be in a sub-directory) is a file in the build path. */
  hasDockerfile?: boolean;
}

export type NodePackageManager = 'npm' | 'yarn' | 'pnpm';
export type Detection =
  | { stack: 'dockerfile' }
  | { stack: 'node'; packageManager: NodePackageManager; lockfile: string | null; buildScript: boolean; start: string[] }
  | { stack: 'python'; install: 'requirements' | 'pyproject'; start: string[] }
  | { stack: 'go' }
  | { stack: 'static' };

export type DetectionResult = { ok: true; detection: Detection; summary: string } | { ok: false; message: string };

export interface GeneratedBuild {
  /** Files to add to the context under GENERATED_DIR (name → content); `Dockerfile` among them. */
  files: Record<string, string>;
  /** The Dockerfile path to build, relative to the context. */
  dockerfile: string;
}

const ENTRY_FILE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * Detection for `auto`: the build path's Dockerfile first; then Node.js (package.json), Python (requirements.txt or
 * pyproject.toml), Go (go.mod), a static site (index.html). `dockerfile` is the configured Dockerfile name.
 */
export function detectStack(probe: RepoProbe, dockerfile = 'Dockerfile'): DetectionResult {
  const has = (n: string) => probe.files.includes(n);
  if (probe.hasDockerfile ?? has(dockerfile)) return { ok: true, detection: { stack: 'dockerfile' }, summary: `the repository's ${dockerfile}` };
  if (has('package.json')) return detectNode(probe);
  if (has('requirements.txt') || has('pyproject.toml')) {
    const install = has('requirements.txt') ? 'requirements' : 'pyproject';
    const entry = ['main.py', 'app.py', 'server.py'].find(has);
    let start: string[] | null = null;
    if (has('manage.py')) start = ['python', 'manage.py', 'runserver', `0.0.0.0:${GENERATED_IMAGE_PORT}`];
    else if (entry) start = ['python', entry];
    if (!start) return { ok: false, message: 'Python project without main.py, app.py, server.py or manage.py: add a Dockerfile or choose another build type' };
    return { ok: true, detection: { stack: 'python', install, start }, summary: `Python (${install === 'requirements' ? 'requirements.txt' : 'pyproject.toml'}; ${start.join(' ')})` };
  }
  if (has('go.mod')) return { ok: true, detection: { stack: 'go' }, summary: 'Go (go.mod; go build .)' };
  if (has('index.html')) return { ok: true, detection: { stack: 'static' }, summary: 'a static site (index.html)' };
  return { ok: false, message: 'No Dockerfile and no known stack (package.json, requirements.txt, pyproject.toml, go.mod, index.html) in the build path' };
}

function detectNode(probe: RepoProbe): DetectionResult {
  let pkg: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(probe.packageJson ?? '');
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) pkg = parsed as Record<string, unknown>;
    else return { ok: false, message: 'package.json is not a JSON object' };
  } catch {
    return { ok: false, message: 'package.json is not valid JSON' };
  }
  const has = (n: string) => probe.files.includes(n);
  const lock = (['pnpm-lock.yaml', 'yarn.lock', 'package-lock.json', 'npm-shrinkwrap.json'] as const).find(has) ?? null;
  const packageManager: NodePackageManager = lock === 'pnpm-lock.yaml' ? 'pnpm' : lock === 'yarn.lock' ? 'yarn' : 'npm';
  const scripts = typeof pkg.scripts === 'object' && pkg.scripts !== null && !Array.isArray(pkg.scripts) ? (pkg.scripts as Record<string, unknown>) : {};
  const buildScript = typeof scripts.build === 'string';
  let start: string[] | null = null;
  if (typeof scripts.start === 'string') start = packageManager === 'npm' ? ['npm', 'start'] : [packageManager, 'start'];
  else if (typeof pkg.main === 'string' && checkRelativePath(pkg.main) === null) start = ['node', pkg.main];
  else {
    const entry = ['server.js', 'index.js', 'app.js', 'main.js'].find(has);
    if (entry && ENTRY_FILE.test(entry)) start = ['node', entry];
  }
  if (!start) return { ok: false, message: 'Node.js project without a start script, a main file or server.js/index.js: add "start" to package.json scripts' };
  const parts = [packageManager + (lock ? ` (${lock})` : ''), buildScript ? 'build script' : 'no build script', `start: ${start.join(' ')}`];
  return { ok: true, detection: { stack: 'node', packageManager, lockfile: lock, buildScript, start }, summary: `Node.js (${parts.join('; ')})` };
}

const json = (v: unknown) => JSON.stringify(v);
const baseArg = (name: string, image: string) => [`ARG ${name}=${image}`, `FROM \${${name}}`];

/** The Dockerfile (and files) for a detected stack; null for `dockerfile` (the repository's own is used). */
export function generateBuild(detection: Detection, images: BuildBaseImages, options: { publishDirectory?: string; spaFallback?: boolean } = {}): GeneratedBuild | null {
  const port = GENERATED_IMAGE_PORT;
  switch (detection.stack) {
    case 'dockerfile':
      return null;
    case 'static':
      return staticSite(images, options.publishDirectory ?? '.', options.spaFallback ?? false);
    case 'node': {
      const { packageManager: pm, lockfile } = detection;
      const install =
        pm === 'pnpm' ? [json(['corepack', 'enable']), json(['pnpm', 'install', '--frozen-lockfile'])]
        : pm === 'yarn' ? [json(['yarn', 'install', '--frozen-lockfile'])]
        : [json(lockfile ? ['npm', 'ci'] : ['npm', 'install'])];
      const lines = [
        ...baseArg('WHARF_BUILD_IMAGE_NODE', images.node),
        'WORKDIR /app',
        `COPY ${json(['package.json', ...(lockfile ? [lockfile] : []), './'])}`,
        ...install.map((r) => `RUN ${r}`),
        'COPY . .',
        ...(detection.buildScript ? [`RUN ${json([pm, 'run', 'build'])}`] : []),
        `ENV NODE_ENV=production PORT=${port}`,
        `EXPOSE ${port}`,
        `CMD ${json(detection.start)}`,
      ];
      return dockerfileOnly(lines);
    }
    case 'python': {
      const lines = [
        ...baseArg('WHARF_BUILD_IMAGE_PYTHON', images.python),
        'WORKDIR /app',
        'ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1',
        ...(detection.install === 'requirements'
          ? [`COPY ${json(['requirements.txt', './'])}`, `RUN ${json(['pip', 'install', '--no-cache-dir', '-r', 'requirements.txt'])}`, 'COPY . .']
          : ['COPY . .', `RUN ${json(['pip', 'install', '--no-cache-dir', '.'])}`]),
        `ENV PORT=${port}`,
        `EXPOSE ${port}`,
        `CMD ${json(detection.start)}`,
      ];
      return dockerfileOnly(lines);
    }
    case 'go': {
      const lines = [
        ...baseArg('WHARF_BUILD_IMAGE_GO', images.go).map((l, i) => (i === 1 ? `${l} AS build` : l)),
        'WORKDIR /src',
        'COPY . .',
        'ENV CGO_ENABLED=0',
        `RUN ${json(['go', 'build', '-trimpath', '-o', '/out/app', '.'])}`,
        'FROM scratch',
        'COPY --from=build /out/app /app',
        'USER 65534:65534',
        `ENV PORT=${port}`,
        `EXPOSE ${port}`,
        'ENTRYPOINT ["/app"]',
      ];
      return dockerfileOnly(lines);
    }
  }
}

function dockerfileOnly(lines: string[]): GeneratedBuild {
  return { files: { Dockerfile: `# Generated by Wharf\n${lines.join('\n')}\n` }, dockerfile: GENERATED_DOCKERFILE };
}

/**
 * A static site served by busybox httpd on port 8080 as an unprivileged user. With `spaFallback`, a path that names no
 * file answers with index.html (busybox's `E404:` error page: the body is index.html, the status stays 404 — browsers
 * render it, the client-side router takes over; crawlers and monitors see the 404).
 */
export function staticSite(images: BuildBaseImages, publishDirectory: string, spaFallback: boolean): GeneratedBuild {
  const e = checkRelativePath(publishDirectory);
  if (e) throw new Error(`The publish directory ${e}`);
  const dir = publishDirectory.replace(/^\.\//, '').replace(/\/$/, '') || '.';
  const conf = ['# Generated by Wharf', ...(spaFallback ? ['E404:index.html'] : []), ''].join('\n');
  const lines = [
    ...baseArg('WHARF_BUILD_IMAGE_STATIC', images.static),
    `COPY ${json([`${GENERATED_DIR}/httpd.conf`, '/etc/httpd.conf'])}`,
    `COPY ${json([dir === '.' ? './' : `${dir}/`, '/site/'])}`,
    ...(dir === '.' ? [`RUN ${json(['rm', '-rf', `/site/${GENERATED_DIR}`, '/site/.git'])}`] : []),
    'USER 65534:65534',
    `EXPOSE ${GENERATED_IMAGE_PORT}`,
    `CMD ${json(['httpd', '-f', '-p', String(GENERATED_IMAGE_PORT), '-h', '/site', '-c', '/etc/httpd.conf'])}`,
  ];
  return { files: { Dockerfile: `# Generated by Wharf\n${lines.join('\n')}\n`, 'httpd.conf': conf }, dockerfile: GENERATED_DOCKERFILE };
}
