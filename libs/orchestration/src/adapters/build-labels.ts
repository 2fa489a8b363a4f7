/**
 * The classic builder (Engine API `version=1`) turns the `labels` build parameter into one `LABEL` step per label, each
 * a container created and committed (~0.1–0.5 s apiece on a small machine). A build that labels its image with several
 * labels therefore sends a copy of the Dockerfile with the labels in one `LABEL` line appended, as a file of its own in
 * the context, and excludes that file (and a `.dockerignore` that only exists for it) through `.dockerignore`, as the
 * docker CLI does for a Dockerfile given from outside the context: the engine removes the files that `.dockerignore`
 * matches from the context after reading the Dockerfile, so no step sees them. When the Dockerfile cannot safely be
 * extended that way, the caller falls back to the `labels` parameter.
 */

/** The labelled copy's name at the context's root (matched only there by Docker's .dockerignore rules). */
export const LABELLED_DOCKERFILE = '.wharf-labels.Dockerfile';
/** Largest Dockerfile copied; a larger one keeps the `labels` parameter. */
const MAX_DOCKERFILE = 1024 * 1024;
/** Characters written between double quotes without any escaping (no `$`, quote, escape character or line break). */
const SAFE_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,254}$/;
const SAFE_VALUE = /^[A-Za-z0-9._/:@+-]{1,1024}$/;
/** A parser directive line (`# escape=\``); only at the very top of a Dockerfile. */
const DIRECTIVE = /^#\s*([A-Za-z][A-Za-z0-9]*)\s*=\s*(\S+)\s*$/;

/**
 * The Dockerfile with one `LABEL "k"="v" …` line appended, or null when the labels must go through the `labels`
 * parameter instead: a build target (the line would land in the last stage, not the target's), a value or name with
 * characters that would need escaping (`$` is substituted in LABEL values), a Dockerfile whose last instruction ends
 * with its escape character (the appended line would continue it), or one too large.
 */
export function labelledDockerfile(dockerfile: string, labels: Record<string, string>, target?: string): string | null {
  const entries = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0 || target !== undefined || dockerfile.length > MAX_DOCKERFILE || dockerfile.includes('\u0000')) return null;
  if (!entries.every(([k, v]) => SAFE_KEY.test(k) && typeof v === 'string' && SAFE_VALUE.test(v))) return null;
  const lines = dockerfile.replace(/^\uFEFF/, '').split(/\r?\n|\r/);
  let escape = '\\';
  for (const line of lines) {
    const m = DIRECTIVE.exec(line.trim());
    if (!m) break;
    if (m[1].toLowerCase() === 'escape') {
      if (m[2] !== '\\' && m[2] !== '`') return null;
      escape = m[2];
    }
  }
  // Blank and comment lines do not end a continuation: the last line that is neither decides.
  const last = [...lines].reverse().find((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  if (last === undefined || last.trimEnd().endsWith(escape)) return null;
  const separator = /(\r?\n|\r)$/.test(dockerfile) ? '' : '\n';
  return `${dockerfile}${separator}LABEL ${entries.map(([k, v]) => `"${k}"="${v}"`).join(' ')}\n`;
}

/**
 * The `.dockerignore` sent with a labelled Dockerfile: the context's own (null when it has none or it was not sent)
 * with a line excluding the labelled copy; without one, a file that also excludes itself, so the engine removes both.
 */
export function dockerignoreWithLabelled(own: string | null): string {
  if (own === null) return `.dockerignore\n${LABELLED_DOCKERFILE}\n`;
  const separator = own === '' || /(\r?\n|\r)$/.test(own) ? '' : '\n';
  return `${own}${separator}${LABELLED_DOCKERFILE}\n`;
}
