import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ApplicationSourceEntity, BuildSettings, DeploymentEntity, DeploymentSourceInfo, buildSecretsAad, deployKeyAad, registryAad, RegistryEntity, sourceTokenAad } from '@wharf/applications';
import { GENERATED_IMAGE_PORT, normaliseBuildSettings } from '@wharf/contracts';
import { SecretBox, WHARF_CONFIG, WharfConfig } from '@wharf/core';
import {
  detectStack, generateBuild, GIT_PORT, GitCheckoutAuth, GitPort, GitSourceError, IMAGE_BUILDER_PORT, ImageBuildError, ImageBuilderPort, runExternalBuilder, staticSite,
} from '@wharf/orchestration';
import { insideCheckout, probeRepository } from './repo-probe';
import { UploadSource, UploadSourceError } from './upload-source';
import { registryImageRef, registryPushDecision } from './registry-push';
import { ProviderConnections } from '../git-providers/provider-connections';

type Level = 'info' | 'warn' | 'error';
export interface SourceBuildContext {
  d: DeploymentEntity;
  signal: AbortSignal;
  log(step: string, msg: string, level?: Level): Promise<void>;
  check(): void;
}

/** The image reference a deployment's build is tagged with: derived from ids only, local to the engine. */
export function buildImageTag(installId: string, applicationId: string, deploymentId: string): string {
  return `wharf/${installId.toLowerCase()}-${applicationId}:${deploymentId}`;
}

/**
 * The `source` step of a Git application's deployment: checks out the snapshot's repository and ref (or the exact
 * commit a webhook named) with the source's current credentials, records the commit on the deployment, builds the
 * image from the build path's Dockerfile through the Engine API (output in the deployment log, cancel and deadline
 * abort it), and makes the built image the deployment's image (the snapshot's `image` is updated, so a rollback to this
 * deployment reuses the image by id instead of building again). The checkout lives in a private directory under the
 * data directory and is removed afterwards whatever happens. A resumed run checks out and builds again (the engine's
 * layer cache makes the second build quick).
 */
@Injectable()
export class SourceBuild {
  constructor(
    private readonly ds: DataSource,
    private readonly box: SecretBox,
    @Inject(GIT_PORT) private readonly git: GitPort,
    @Inject(IMAGE_BUILDER_PORT) private readonly builder: ImageBuilderPort,
    @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
    private readonly providers: ProviderConnections,
    private readonly uploads: UploadSource,
  ) {}

  async run(ctx: SourceBuildContext): Promise<{ ok: false; error: string } | void> {
    const { d, log, signal } = ctx;
    const s = d.snapshot.source;
    if (!s) return;
    const src = await this.ds.manager.findOneBy(ApplicationSourceEntity, { applicationId: d.applicationId });
    if (!src) return { ok: false, error: 'The application has no Git source any more; set one, or deploy an image' };
    if (s.kind === 'upload') return this.fromUpload(ctx, src);
    let auth: GitCheckoutAuth;
    if (src.providerId) {
      // The organization's Git provider connection supplies the credentials (a GitHub App: a token minted now).
      try {
        auth = await this.providers.checkoutAuth(src.providerId, s.repository, signal);
      } catch (e) {
        return { ok: false, error: `Checkout failed${e instanceof GitSourceError ? ` (${e.reason})` : ''}: ${(e as Error).message}` };
      }
    } else if (src.authKind === 'token') auth = { kind: 'token', token: this.box.decrypt(src.tokenBox!, sourceTokenAad(src.applicationId)), ...(src.authUsername ? { username: src.authUsername } : {}) };
    else if (src.authKind === 'deploy-key') auth = { kind: 'deploy-key', privateKey: this.box.decrypt(src.deployKeyBox!, deployKeyAad(src.applicationId)), knownHosts: [...src.knownHosts] };
    else auth = { kind: 'none' };

    const root = join(this.config.dataDir, 'builds');
    await mkdir(root, { recursive: true, mode: 0o700 });
    const work = await mkdtemp(join(root, `${d.id}-`));
    try {
      const checkoutDir = join(work, 'src');
      await log('source', `Checking out ${s.repository} at ${s.commit ?? s.ref}`);
      let info;
      try {
        info = await this.git.checkout({
          repository: s.repository, ref: s.ref, ...(s.commit ? { commit: s.commit } : {}), auth, submodules: s.submodules, directory: checkoutDir,
          maxBytes: this.config.sources.maxCheckoutBytes, deadlineMs: this.config.sources.checkoutTimeoutMs, signal,
          onLog: (line) => void log('source', line),
        });
      } catch (e) {
        ctx.check();
        const reason = e instanceof GitSourceError ? ` (${e.reason})` : '';
        return { ok: false, error: `Checkout failed${reason}: ${(e as Error).message}` };
      }
      const firstLine = info.message.split('\n')[0].slice(0, 200);
      await log('source', `Commit ${info.commit.slice(0, 12)} by ${info.author}: ${firstLine}`);
      const recorded: DeploymentSourceInfo = { repository: s.repository, ref: s.ref, commit: info.commit, message: info.message.slice(0, 4000), author: info.author, authorEmail: info.authorEmail, committedAt: info.committedAt };
      await this.ds.query(`UPDATE deployments SET source = $2 WHERE id = $1`, [d.id, JSON.stringify(recorded)]);
      d.source = recorded;
      ctx.check();
      return await this.buildFrom(ctx, src, checkoutDir, { 'wharf.commit': info.commit });
    } finally {
      await rm(work, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /**
   * An upload source: the archive the snapshot names is read from the database and extracted into a private
   * directory (refused whole when an entry breaks a rule: the deployment fails naming it), recorded on the deployment,
   * then built like a checkout.
   */
  private async fromUpload(ctx: SourceBuildContext, src: ApplicationSourceEntity): Promise<{ ok: false; error: string } | void> {
    const { d, log } = ctx;
    const up = d.snapshot.source!.upload;
    if (!up) return { ok: false, error: 'The deployment names no uploaded archive' };
    const root = join(this.config.dataDir, 'builds');
    await mkdir(root, { recursive: true, mode: 0o700 });
    const work = await mkdtemp(join(root, `${d.id}-`));
    try {
      const checkoutDir = join(work, 'src');
      await log('source', `Extracting the uploaded archive ${up.fileName} (${up.size} bytes, sha256 ${up.sha256})`);
      try {
        const r = await this.uploads.extract(up, d, join(work, 'archive'), checkoutDir, ctx.signal);
        await log('source', `Extracted ${r.files} file${r.files === 1 ? '' : 's'} (${r.entries} entries, ${r.bytes} bytes)`);
      } catch (e) {
        ctx.check();
        return { ok: false, error: `Upload refused${e instanceof UploadSourceError ? ` (${e.reason})` : ''}: ${(e as Error).message}` };
      }
      const recorded: DeploymentSourceInfo = { ...(d.source ?? { message: null, author: null, authorEmail: null, committedAt: null }), kind: 'upload', upload: up, repository: '', ref: '', commit: null };
      await this.ds.query(`UPDATE deployments SET source = $2 WHERE id = $1`, [d.id, JSON.stringify(recorded)]);
      d.source = recorded;
      ctx.check();
      return await this.buildFrom(ctx, src, checkoutDir, { 'wharf.upload': up.id });
    } finally {
      await rm(work, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /** Builds the checked-out or extracted tree (build path, build type, secrets), pushes it when spread, prunes old images. */
  private async buildFrom(ctx: SourceBuildContext, src: ApplicationSourceEntity, checkoutDir: string, origin: Record<string, string>): Promise<{ ok: false; error: string } | void> {
    const { d, log, signal } = ctx;
    const s = d.snapshot.source!;
    const install = d.snapshot.labels['wharf.install'];
    const tag = buildImageTag(install, d.applicationId, d.id);
    const contextDir = s.buildPath === '.' ? checkoutDir : join(checkoutDir, s.buildPath);
    const build = normaliseBuildSettings(s.build);
    const labels = { 'wharf.install': install, 'wharf.organization': d.organizationId, 'wharf.application': d.applicationId, 'wharf.deployment': d.id, ...origin };
    const secrets = this.buildSecrets(src, build.secrets);
    const missing = build.secrets.filter((n) => !(n in secrets));
    if (missing.length > 0) await log('build', `Build secrets without a stored value are left out: ${missing.join(', ')}`, 'warn');
    try {
      if (build.kind === 'nixpacks' || build.kind === 'railpack' || build.kind === 'buildpacks') {
        await log('build', `Build type ${build.kind} in ${s.buildPath}`);
        if (Object.keys(secrets).length > 0) await log('build', `Build secrets are passed only to Dockerfile builds; ${build.kind} does not receive them`, 'warn');
        await runExternalBuilder({
          kind: build.kind, contextDir: await insideCheckout(checkoutDir, contextDir), tag, labels, buildArgs: { ...build.args }, packBuilder: this.config.sources.buildImages.packBuilder,
          deadlineMs: this.config.sources.buildTimeoutMs, signal, onLog: (line) => void log('build', line),
        });
        await log('build', `Built ${tag}`);
      } else {
        const plan = await this.plan(build, checkoutDir, contextDir);
        await log('build', plan.describe(s.buildPath));
        const r = await this.builder.build({
          contextDir, rootDir: checkoutDir, dockerfile: plan.dockerfile, ...(plan.files ? { generatedFiles: plan.files } : {}),
          ...(build.target && !plan.files ? { target: build.target } : {}), buildArgs: { ...build.args },
          ...(Object.keys(secrets).length > 0 ? { secrets } : {}),
          tags: [tag], labels, deadlineMs: this.config.sources.buildTimeoutMs, signal, onLog: (line) => void log('build', line),
        });
        await log('build', `Built ${tag} (${r.imageId})`);
      }
    } catch (e) {
      ctx.check();
      const err = e as ImageBuildError;
      return { ok: false, error: `Build failed${err.reason ? ` (${err.reason})` : ''}: ${err.message}` };
    }
    // Several nodes may run it: the image goes to the application's registry, and the service pulls it from there.
    const pushed = await this.pushIfSpread(d, tag, ctx);
    if (pushed && !pushed.ok) return pushed;
    const image = pushed?.ok ? pushed.image : tag;
    // The deployment runs the built image; a rollback to it reuses that image (its id is recorded by the image step).
    await this.ds.query(`UPDATE deployments SET snapshot = jsonb_set(snapshot, '{image}', to_jsonb($2::text)) WHERE id = $1`, [d.id, image]);
    d.snapshot.image = image;
    await this.prune(install, d, log);
  }

  /** The stored values of the listed build secrets (a preview application has none of its parent's). */
  private buildSecrets(src: ApplicationSourceEntity, names: string[]): Record<string, string> {
    if (!src.buildSecretsBox || names.length === 0) return {};
    const all = JSON.parse(this.box.decrypt(src.buildSecretsBox, buildSecretsAad(src.applicationId))) as Record<string, string>;
    return Object.fromEntries(names.filter((n) => typeof all[n] === 'string').map((n) => [n, all[n]]));
  }

  /**
   * Which Dockerfile builds: the repository's (`dockerfile`, or `auto` when it has one), or one Wharf generates
   * (`static`, `auto` for a detected stack) and sends inside the context (never written into the checkout).
   */
  private async plan(build: BuildSettings, checkoutDir: string, contextDir: string): Promise<{ dockerfile: string; files?: Record<string, string>; describe: (buildPath: string) => string }> {
    const images = this.config.sources.buildImages;
    const own = (why: string) => ({
      dockerfile: build.dockerfile,
      describe: (bp: string) => `${why}Building ${build.dockerfile} in ${bp}${build.target ? ` (target ${build.target})` : ''}`,
    });
    if (build.kind === 'dockerfile') return own('Build type dockerfile: ');
    if (build.kind === 'static') {
      const g = staticSite(images, build.publishDirectory, build.spaFallback);
      return { ...g, describe: () => `Build type static: serving ${build.publishDirectory} with busybox httpd on port ${GENERATED_IMAGE_PORT}${build.spaFallback ? ' (SPA fallback to index.html)' : ''}` };
    }
    const probe = await probeRepository(await insideCheckout(checkoutDir, contextDir), build.dockerfile);
    const found = detectStack(probe, build.dockerfile);
    if (!found.ok) throw new ImageBuildError(found.message, 'detection-failed');
    const generated = generateBuild(found.detection, images, { publishDirectory: '.', spaFallback: false });
    if (!generated) return own(`Build type auto: detected ${found.summary}. `);
    return { ...generated, describe: () => `Build type auto: detected ${found.summary}; generated a Dockerfile (port ${GENERATED_IMAGE_PORT})` };
  }

  /**
   * Multi-node: when the placement spans more than one active Swarm node (or WHARF_BUILD_PUSH=always), the built image
   * is tagged `<registry host>/wharf-<application>:<deployment>` and pushed with the application's registry credentials
   * (the organization's registry named by the spec's registryId); the deployment then runs that reference, pulled by the pull
   * step like any registry image (its digest recorded for rollback). Without a registry on several nodes, a warning.
   */
  private async pushIfSpread(d: DeploymentEntity, tag: string, ctx: SourceBuildContext): Promise<{ ok: true; image: string } | { ok: false; error: string } | null> {
    const policy = this.config.sources.pushBuilds;
    if (policy === 'never') return null;
    const registryId = d.snapshot.spec.registryId ?? null;
    let activeNodes = 1;
    try {
      activeNodes = await this.builder.activeNodes();
    } catch (e) {
      await ctx.log('push', `Could not count the Swarm nodes (${(e as Error).message}); treating the placement as one node`, 'warn');
    }
    const decision = registryPushDecision({ policy, registryId, activeNodes, constraints: d.snapshot.spec.constraints ?? [] });
    if (!decision.push) {
      if (decision.why) await ctx.log('push', decision.why, 'warn');
      return null;
    }
    const r = await this.ds.getRepository(RegistryEntity).findOneBy({ id: registryId!, organizationId: d.organizationId });
    if (!r) return { ok: false, error: 'The registry of this application no longer exists' };
    const target = registryImageRef(r.host, d.applicationId, d.id);
    await ctx.log('push', `Pushing the built image to ${target} (${decision.why})`);
    try {
      const { digest } = await this.builder.pushImage({
        source: tag, target, auth: { serveraddress: r.host, username: r.username, password: this.box.decrypt(r.passwordEnc, registryAad(r.id)) },
        deadlineMs: this.config.sources.buildTimeoutMs, signal: ctx.signal, onLog: (line) => void ctx.log('push', line),
      });
      await ctx.log('push', `Pushed ${target}${digest ? ` (${digest})` : ''}`);
      return { ok: true, image: target };
    } catch (e) {
      ctx.check();
      return { ok: false, error: `Push to ${r.host} failed: ${(e as Error).message}` };
    }
  }

  /**
   * Retention: the application's newest WHARF_BUILD_IMAGES_KEEP built images stay (rollback reaches back that far);
   * older ones are removed, only when they carry this install's and this application's labels, and never while a
   * container uses one (the engine refuses, and the image is kept). Best effort: a failure is a warning in the log.
   */
  private async prune(install: string, d: DeploymentEntity, log: SourceBuildContext['log']): Promise<void> {
    try {
      const r = await this.builder.removeImages({ 'wharf.install': install, 'wharf.application': d.applicationId }, { newest: this.config.sources.keepImages });
      if (r.removed.length > 0) await log('build', `Removed ${r.removed.length} older build image${r.removed.length === 1 ? '' : 's'} (keeping the newest ${this.config.sources.keepImages})`);
    } catch (e) {
      await log('build', `Could not remove older build images: ${(e as Error).message}`, 'warn');
    }
  }
}
