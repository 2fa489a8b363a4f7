import { ApplicationSpec, MountSpec, PortSpec } from '../../core/api/api-types';

/** "one argument per line" ↔ argv array (never a shell string: each line is one argument). */
export function linesToArgv(text: string): string[] | null {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() !== '');
  return lines.length ? lines : null;
}
export function argvToLines(argv: string[] | null | undefined): string {
  return (argv ?? []).join('\n');
}

/** `KEY=value` lines → variables (the first "=" splits; blank lines ignored). Throws on a line without "=". */
export function parseEnvLines(text: string): Array<{ key: string; value: string; secret: boolean }> {
  const out: Array<{ key: string; value: string; secret: boolean }> = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (!line.trim()) continue;
    const i = line.indexOf('=');
    if (i <= 0) throw new Error(`"${line}" is not KEY=value`);
    out.push({ key: line.slice(0, i).trim(), value: line.slice(i + 1), secret: false });
  }
  return out;
}

export interface PortRow { target: number | null; published: number | null; protocol: 'tcp' | 'udp'; mode: 'host' | 'ingress' }
export function portsToSpec(rows: PortRow[]): PortSpec[] {
  return rows.filter((r) => r.target).map((r) => ({ target: Number(r.target), ...(r.published ? { published: Number(r.published) } : {}), protocol: r.protocol, mode: r.mode }));
}

export interface MountRow { type: 'volume' | 'bind'; source: string; target: string; readOnly: boolean }
export function mountsToSpec(rows: MountRow[]): MountSpec[] {
  return rows.filter((r) => r.source && r.target).map((r) => ({ ...r }));
}

/** An empty number field means "no limit" (null) in the resources spec. */
export const numOrNull = (v: number | string | null | undefined): number | null => (v === null || v === undefined || v === '' ? null : Number(v));

export type SpecPatch = Partial<ApplicationSpec>;
