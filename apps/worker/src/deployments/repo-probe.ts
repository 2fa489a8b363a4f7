/**
 * What `auto` detection looks at in a checkout: the regular files at the top of the build path and package.json's
 * text. Links are never followed (lstat; package.json opened with O_NOFOLLOW), the build path must stay inside the
 * checkout once links are resolved, and package.json is read only up to 1 MiB.
 */
import { constants } from 'node:fs';
import { lstat, open, readdir, realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { ImageBuildError, RepoProbe } from '@wharf/orchestration';

const MAX_PACKAGE_JSON = 1024 * 1024;

/** `dir` with links resolved, when it is inside `root`; otherwise an ImageBuildError (invalid-input). */
export async function insideCheckout(root: string, dir: string): Promise<string> {
  let real: string;
  let realRoot: string;
  try {
    [real, realRoot] = await Promise.all([realpath(dir), realpath(root)]);
  } catch {
    throw new ImageBuildError('The build path does not exist in the repository.', 'invalid-input');
  }
  const rel = relative(realRoot, real);
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) throw new ImageBuildError('The build path is outside the repository.', 'invalid-input');
  if (!(await lstat(real)).isDirectory()) throw new ImageBuildError('The build path is not a directory.', 'invalid-input');
  return real;
}

export async function probeRepository(dir: string, dockerfile: string): Promise<RepoProbe> {
  const files: string[] = [];
  for (const name of (await readdir(dir)).sort().slice(0, 10_000)) {
    const st = await lstat(join(dir, name));
    if (st.isFile()) files.push(name);
  }
  let hasDockerfile = false;
  try {
    hasDockerfile = (await lstat(join(dir, ...dockerfile.split('/')))).isFile();
  } catch {
    hasDockerfile = false;
  }
  let packageJson: string | null = null;
  if (files.includes('package.json')) {
    const h = await open(join(dir, 'package.json'), constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const buf = Buffer.alloc(MAX_PACKAGE_JSON + 1);
      const { bytesRead } = await h.read(buf, 0, buf.length, 0);
      if (bytesRead > MAX_PACKAGE_JSON) throw new ImageBuildError('package.json is larger than 1 MiB.', 'detection-failed');
      packageJson = buf.subarray(0, bytesRead).toString('utf8');
    } finally {
      await h.close();
    }
  }
  return { files, packageJson, hasDockerfile };
}
