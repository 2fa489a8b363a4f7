import { PreconditionFailedError } from '../errors/domain-error';

/** The command/query handler classes a module file exports (names ending in `Handler`), for a module's providers. */
export const handlersOf = (mod: Record<string, unknown>): Array<new (...a: never[]) => unknown> =>
  Object.values(mod).filter((v): v is new (...a: never[]) => unknown => typeof v === 'function' && /Handler$/.test((v as { name: string }).name));

/** If-Match: a stale expected version is a 412; no expectation means last write wins. */
export function checkVersion(current: number, expected: number | undefined): void {
  if (expected !== undefined && expected !== current) throw new PreconditionFailedError();
}
