import { ApplicationSpec, DEFAULT_ROLLBACK_POLICY, DEFAULT_UPDATE_POLICY, UpdatePolicySpec } from '@wharf/contracts';
import { FieldError, UUID_RE, ValidationError } from '@wharf/core';
import { parseImageReference } from './image-reference';

type Obj = Record<string, unknown>;

/** Validation collects every problem with a JSON pointer before failing, so the portal can highlight each field. */
class Checker {
  readonly errors: FieldError[] = [];
  fail(pointer: string, code: string, detail: string): void {
    this.errors.push({ pointer, code, detail });
  }
  obj(v: unknown, p: string): Obj | null {
    if (v === undefined || v === null) return null;
    if (typeof v !== 'object' || Array.isArray(v)) {
      this.fail(p, 'type', 'must be an object');
      return null;
    }
    return v as Obj;
  }
  known(o: Obj, p: string, keys: string[]): void {
    for (const k of Object.keys(o)) if (!keys.includes(k)) this.fail(`${p}/${k}`, 'unknown-field', `unknown field "${k}"`);
  }
  int(v: unknown, p: string, min: number, max: number, def: number): number {
    if (v === undefined || v === null) return def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(p, 'range', `must be an integer between ${min} and ${max}`);
      return def;
    }
    return v;
  }
  num(v: unknown, p: string, min: number, max: number): number | null {
    if (v === undefined || v === null) return null;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      this.fail(p, 'range', `must be a number between ${min} and ${max}`);
      return null;
    }
    return v;
  }
  str(v: unknown, p: string, max: number, re?: RegExp, what = 'invalid'): string | null {
    if (typeof v !== 'string') {
      this.fail(p, 'type', 'must be a string');
      return null;
    }
    if (v.length > max) this.fail(p, 'too-long', `at most ${max} characters`);
    else if (re && !re.test(v)) this.fail(p, 'format', what);
    else return v;
    return null;
  }
  oneOf<T extends string>(v: unknown, p: string, values: readonly T[], def: T): T {
    if (v === undefined || v === null) return def;
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      this.fail(p, 'enum', `must be one of ${values.join(', ')}`);
      return def;
    }
    return v as T;
  }
  bool(v: unknown, p: string, def: boolean): boolean {
    if (v === undefined || v === null) return def;
    if (typeof v !== 'boolean') {
      this.fail(p, 'type', 'must be a boolean');
      return def;
    }
    return v;
  }
  argv(v: unknown, p: string): string[] | null {
    if (v === undefined || v === null) return null;
    if (!Array.isArray(v) || v.length > 100) {
      this.fail(p, 'type', 'must be an array of at most 100 strings (an argument vector, never a shell string)');
      return null;
    }
    return v.map((x, i) => this.str(x, `${p}/${i}`, 4096) ?? '');
  }
}

export const LABEL_KEY_RE = /^[A-Za-z0-9]([A-Za-z0-9._\-/]{0,126}[A-Za-z0-9])?$/;
const CONSTRAINT_RE = /^[A-Za-z0-9._\-]+(\.[A-Za-z0-9._\-]+)*\s*(==|!=)\s*[^\s].{0,200}$/;
const VOLUME_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

function policy(c: Checker, v: unknown, p: string, def: UpdatePolicySpec, allowRollback: boolean): UpdatePolicySpec {
  const o = c.obj(v, p);
  if (!o) return { ...def };
  c.known(o, p, ['parallelism', 'order', 'failureAction', 'monitorMs']);
  return {
    parallelism: c.int(o.parallelism, `${p}/parallelism`, 0, 100, def.parallelism),
    order: c.oneOf(o.order, `${p}/order`, ['start-first', 'stop-first'] as const, def.order),
    failureAction: c.oneOf(o.failureAction, `${p}/failureAction`, allowRollback ? (['pause', 'continue', 'rollback'] as const) : (['pause', 'continue'] as const), def.failureAction),
    monitorMs: c.int(o.monitorMs, `${p}/monitorMs`, 0, 600_000, def.monitorMs),
  };
}

export interface SpecPolicy {
  /** Host path prefixes an organization admin allowed for bind mounts. */
  allowedBindPaths: string[];
  /** What the worker last observed of the target server (absent until it has looked). */
  host?: { nodeCount: number; ipvs: boolean } | null;
}

/**
 * Validates and normalises an application spec (defaults filled in). `base` is the current spec for partial updates.
 * Enforces the organization's container safety policy (bind mounts only under allowed host paths). The spec has no
 * way to ask for privileged mode, host network/PID, capabilities or devices at all.
 */
export function validateApplicationSpec(input: unknown, policyIn: SpecPolicy, base?: ApplicationSpec, pointer = '/spec'): ApplicationSpec {
  const c = new Checker();
  const o = c.obj(input, pointer) ?? {};
  c.known(o, pointer, ['image', 'registryId', 'command', 'args', 'replicas', 'resources', 'ports', 'healthcheck', 'restartPolicy', 'update', 'rollback', 'constraints', 'labels', 'mounts', 'stopGracePeriodMs', 'deployTimeoutMs']);
  const has = (k: string) => Object.prototype.hasOwnProperty.call(o, k);
  const pick = <K extends keyof ApplicationSpec>(k: K, f: () => ApplicationSpec[K]): ApplicationSpec[K] => (has(k) || !base ? f() : base[k]);

  const image = pick('image', () => {
    const s = typeof o.image === 'string' ? o.image.trim() : o.image;
    if (typeof s !== 'string' || !parseImageReference(s)) {
      c.fail(`${pointer}/image`, 'image-reference', 'must be a valid image reference such as "nginx:1.27" or "registry.example.com/team/app@sha256:…"');
      return '';
    }
    return s;
  });
  const registryId = pick('registryId', () => {
    if (o.registryId === null || o.registryId === undefined) return null;
    if (typeof o.registryId !== 'string' || !UUID_RE.test(o.registryId)) c.fail(`${pointer}/registryId`, 'format', 'must be a registry id');
    return typeof o.registryId === 'string' ? o.registryId : null;
  });
  const command = pick('command', () => c.argv(o.command, `${pointer}/command`));
  const args = pick('args', () => c.argv(o.args, `${pointer}/args`));
  const replicas = pick('replicas', () => c.int(o.replicas, `${pointer}/replicas`, 0, 100, 1));
  const resources = pick('resources', () => {
    const r = c.obj(o.resources, `${pointer}/resources`) ?? {};
    c.known(r, `${pointer}/resources`, ['cpuLimit', 'memoryLimitMb', 'cpuReservation', 'memoryReservationMb']);
    return {
      cpuLimit: c.num(r.cpuLimit, `${pointer}/resources/cpuLimit`, 0.01, 256),
      memoryLimitMb: c.num(r.memoryLimitMb, `${pointer}/resources/memoryLimitMb`, 4, 1_048_576),
      cpuReservation: c.num(r.cpuReservation, `${pointer}/resources/cpuReservation`, 0.01, 256),
      memoryReservationMb: c.num(r.memoryReservationMb, `${pointer}/resources/memoryReservationMb`, 4, 1_048_576),
    };
  });
  const ports = pick('ports', () => {
    if (o.ports === undefined || o.ports === null) return [];
    if (!Array.isArray(o.ports) || o.ports.length > 50) {
      c.fail(`${pointer}/ports`, 'type', 'must be an array of at most 50 ports');
      return [];
    }
    const seen = new Set<string>();
    return o.ports.map((x, i) => {
      const p = `${pointer}/ports/${i}`;
      const po = c.obj(x, p) ?? {};
      c.known(po, p, ['target', 'published', 'protocol', 'mode']);
      const target = c.int(po.target, `${p}/target`, 1, 65535, 80);
      const published = po.published === undefined || po.published === null ? undefined : c.int(po.published, `${p}/published`, 1, 65535, 0);
      const protocol = c.oneOf(po.protocol, `${p}/protocol`, ['tcp', 'udp'] as const, 'tcp');
      const mode = c.oneOf(po.mode, `${p}/mode`, ['ingress', 'host'] as const, 'host');
      if (published !== undefined) {
        const k = `${published}/${protocol}`;
        if (seen.has(k)) c.fail(`${p}/published`, 'duplicate', `port ${k} is published twice`);
        seen.add(k);
      }
      return { target, ...(published !== undefined ? { published } : {}), protocol, mode };
    });
  });
  const healthcheck = pick('healthcheck', () => {
    const h = c.obj(o.healthcheck, `${pointer}/healthcheck`);
    if (!h) return null;
    c.known(h, `${pointer}/healthcheck`, ['test', 'intervalMs', 'timeoutMs', 'retries', 'startPeriodMs']);
    const test = c.argv(h.test, `${pointer}/healthcheck/test`) ?? [];
    if (test.length === 0) c.fail(`${pointer}/healthcheck/test`, 'required', 'must be a non-empty argument vector, e.g. ["CMD", "wget", "-q", "http://127.0.0.1/"]');
    return {
      test,
      intervalMs: c.int(h.intervalMs, `${pointer}/healthcheck/intervalMs`, 1000, 3_600_000, 10_000),
      timeoutMs: c.int(h.timeoutMs, `${pointer}/healthcheck/timeoutMs`, 1000, 600_000, 5_000),
      retries: c.int(h.retries, `${pointer}/healthcheck/retries`, 1, 100, 3),
      startPeriodMs: c.int(h.startPeriodMs, `${pointer}/healthcheck/startPeriodMs`, 0, 3_600_000, 0),
    };
  });
  const restartPolicy = pick('restartPolicy', () => {
    const r = c.obj(o.restartPolicy, `${pointer}/restartPolicy`) ?? {};
    c.known(r, `${pointer}/restartPolicy`, ['condition', 'delayMs', 'maxAttempts']);
    return {
      condition: c.oneOf(r.condition, `${pointer}/restartPolicy/condition`, ['none', 'on-failure', 'any'] as const, 'any'),
      delayMs: c.int(r.delayMs, `${pointer}/restartPolicy/delayMs`, 0, 3_600_000, 5000),
      maxAttempts: c.int(r.maxAttempts, `${pointer}/restartPolicy/maxAttempts`, 0, 1000, 0),
    };
  });
  const update = pick('update', () => policy(c, o.update, `${pointer}/update`, DEFAULT_UPDATE_POLICY, true));
  const rollback = pick('rollback', () => policy(c, o.rollback, `${pointer}/rollback`, DEFAULT_ROLLBACK_POLICY, false));
  const constraints = pick('constraints', () => {
    if (o.constraints === undefined || o.constraints === null) return [];
    if (!Array.isArray(o.constraints) || o.constraints.length > 20) {
      c.fail(`${pointer}/constraints`, 'type', 'must be an array of at most 20 constraints');
      return [];
    }
    return o.constraints.map((x, i) => c.str(x, `${pointer}/constraints/${i}`, 256, CONSTRAINT_RE, 'must look like "node.role==manager"') ?? '');
  });
  const labels = pick('labels', () => {
    const l = c.obj(o.labels, `${pointer}/labels`) ?? {};
    const out: Record<string, string> = {};
    if (Object.keys(l).length > 100) c.fail(`${pointer}/labels`, 'too-many', 'at most 100 labels');
    for (const [k, v] of Object.entries(l)) {
      const p = `${pointer}/labels/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (!LABEL_KEY_RE.test(k)) c.fail(p, 'format', 'label keys are letters, digits, ".", "-", "_" and "/"');
      else if (k.toLowerCase().startsWith('wharf.')) c.fail(p, 'reserved', 'the "wharf." label prefix is reserved');
      const s = c.str(v, p, 4096);
      if (s !== null) out[k] = s;
    }
    return out;
  });
  const mounts = pick('mounts', () => {
    if (o.mounts === undefined || o.mounts === null) return [];
    if (!Array.isArray(o.mounts) || o.mounts.length > 20) {
      c.fail(`${pointer}/mounts`, 'type', 'must be an array of at most 20 mounts');
      return [];
    }
    return o.mounts.map((x, i) => {
      const p = `${pointer}/mounts/${i}`;
      const m = c.obj(x, p) ?? {};
      c.known(m, p, ['type', 'source', 'target', 'readOnly']);
      const type = c.oneOf(m.type, `${p}/type`, ['volume', 'bind'] as const, 'volume');
      const target = c.str(m.target, `${p}/target`, 1024, /^\/(?!.*(^|\/)\.\.(\/|$))[^\0]*$/, 'must be an absolute path without ".."') ?? '';
      let source = '';
      if (type === 'volume') source = c.str(m.source, `${p}/source`, 128, VOLUME_NAME_RE, 'volume names are letters, digits, "_", "." and "-"') ?? '';
      else {
        source = c.str(m.source, `${p}/source`, 1024, /^\/(?!.*(^|\/)\.\.(\/|$))[^\0]*$/, 'must be an absolute host path without ".."') ?? '';
        if (source && !policyIn.allowedBindPaths.some((root) => source === root || source.startsWith(root.endsWith('/') ? root : `${root}/`))) {
          c.fail(`${p}/source`, 'policy', 'bind mounts outside the allowed host paths are refused by the organization\'s container policy');
        }
      }
      return { type, source, target, readOnly: c.bool(m.readOnly, `${p}/readOnly`, false) };
    });
  });
  const stopGracePeriodMs = pick('stopGracePeriodMs', () => c.int(o.stopGracePeriodMs, `${pointer}/stopGracePeriodMs`, 0, 3_600_000, 10_000));
  const deployTimeoutMs = pick('deployTimeoutMs', () => c.int(o.deployTimeoutMs, `${pointer}/deployTimeoutMs`, 5_000, 3_600_000, 300_000));

  // A spec that can never converge on this host is refused up front: several replicas cannot share one fixed
  // host-mode port on a single node.
  const nodes = policyIn.host?.nodeCount ?? 1;
  ports.forEach((pt, i) => {
    if (pt.published && (pt.mode === 'host' || !policyIn.host?.ipvs) && replicas > nodes) {
      c.fail(`${pointer}/ports/${i}/published`, 'cannot-converge', `${replicas} replicas cannot all publish host port ${pt.published} on ${nodes} node${nodes > 1 ? 's' : ''}; leave "published" empty to let the engine pick a port per task, or run ${nodes} replica${nodes > 1 ? 's' : ''}`);
    }
  });
  if (c.errors.length) throw new ValidationError(c.errors.map((e) => `${e.pointer}: ${e.detail}`).join('; '), c.errors);
  return { image, registryId, command, args, replicas, resources, ports, healthcheck, restartPolicy, update, rollback, constraints, labels, mounts, stopGracePeriodMs, deployTimeoutMs };
}
