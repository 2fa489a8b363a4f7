import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { ensureDebianPackages } from './host-tools';

export const BUSYBOX_IMAGE = 'wharf-test/busybox:1';
const FIXTURE = join(__dirname, '..', '..', 'fixtures', 'images', 'busybox', 'Dockerfile');
const BUSYBOX_BIN = '/bin/busybox';

/**
 * Builds `wharf-test/busybox:1` from Debian's static busybox (FROM scratch) through the Engine API with a tar
 * context, unless the engine already has it. Returns the image id.
 */
export async function ensureBusyboxImage(docker: Docker, tag = BUSYBOX_IMAGE): Promise<string> {
  try {
    const img = await docker.getImage(tag).inspect();
    return img.Id;
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode !== 404) throw e;
  }
  await ensureDebianPackages([{ name: 'busybox-static', marker: BUSYBOX_BIN }]);
  const ctx = mkdtempSync(join(tmpdir(), 'wharf-busybox-'));
  try {
    copyFileSync(FIXTURE, join(ctx, 'Dockerfile'));
    copyFileSync(BUSYBOX_BIN, join(ctx, 'busybox'));
    // dockerode packs { context, src } into a (gzipped) tar stream and posts it to /build.
    const stream = await docker.buildImage({ context: ctx, src: ['Dockerfile', 'busybox'] }, { t: tag, rm: true, forcerm: true, labels: { 'wharf.test-image': 'busybox' } });
    const events = await new Promise<{ error?: string; errorDetail?: { message: string } }[]>((resolve, reject) =>
      docker.modem.followProgress(stream, (err: Error | null, out: unknown[]) => (err ? reject(err) : resolve(out as never))),
    );
    const failed = events.find((e) => e.error || e.errorDetail);
    if (failed) throw new Error(`Building ${tag} failed: ${failed.errorDetail?.message ?? failed.error}`);
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
  return (await docker.getImage(tag).inspect()).Id;
}
