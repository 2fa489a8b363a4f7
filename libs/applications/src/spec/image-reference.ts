/**
 * Docker image reference grammar (distribution/reference): [domain/]path[:tag][@digest], name ≤ 255 characters.
 */
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const NAME = `(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);

export interface ParsedReference {
  name: string;
  /** Registry host when the first component looks like one (has '.', ':' or is localhost). */
  registry: string | null;
  tag: string | null;
  digest: string | null;
}

export function parseImageReference(ref: string): ParsedReference | null {
  if (typeof ref !== 'string' || ref.length === 0 || ref.length > 512) return null;
  const m = REFERENCE.exec(ref);
  if (!m || m[1].length > 255) return null;
  const name = m[1];
  const first = name.split('/')[0];
  const registry = name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : null;
  // Without a registry host every component is a lowercase path component (Docker: "repository name must be lowercase").
  const path = registry ? name.slice(registry.length + 1) : name;
  if (!new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`).test(path)) return null;
  return { name, registry, tag: m[2] ?? null, digest: m[3] ?? null };
}
