/**
 * The few protobuf messages a BuildKit build through the Engine API needs, read and written by hand (proto3 wire
 * format): the progress trace (`moby.buildkit.v1.StatusResponse`, base64 in `{"id":"moby.buildkit.trace","aux":…}`),
 * and the session's secret and health messages.
 */

interface Field {
  no: number;
  wire: number;
  /** varint value (wire 0) */
  num?: bigint;
  /** bytes (wire 2) */
  bytes?: Buffer;
}

/** Reads the top-level fields of one message; unknown wire types stop the read (the message is then ignored). */
export function readFields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (i >= buf.length) throw new Error('truncated varint');
      const b = buf[i++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new Error('varint too long');
    }
  };
  while (i < buf.length) {
    const key = varint();
    const no = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) out.push({ no, wire, num: varint() });
    else if (wire === 2) {
      const len = Number(varint());
      if (i + len > buf.length) throw new Error('truncated field');
      out.push({ no, wire, bytes: buf.subarray(i, i + len) });
      i += len;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

function encodeVarint(n: number): Buffer {
  const bytes: number[] = [];
  let v = n >>> 0;
  while (v >= 0x80) {
    bytes.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

/** A length-delimited field (string, bytes or message). */
export function encodeBytesField(no: number, value: Buffer | string): Buffer {
  const data = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return Buffer.concat([encodeVarint((no << 3) | 2), encodeVarint(data.length), data]);
}

export function encodeVarintField(no: number, value: number): Buffer {
  return Buffer.concat([encodeVarint(no << 3), encodeVarint(value)]);
}

export interface BuildkitVertex {
  digest: string;
  name: string;
  cached: boolean;
  started: boolean;
  completed: boolean;
  error: string;
}

export interface BuildkitStatus {
  vertexes: BuildkitVertex[];
  logs: { vertex: string; msg: string }[];
  warnings: string[];
}

/** `moby.buildkit.v1.StatusResponse` from the trace's base64 text. */
export function decodeBuildkitStatus(base64: string): BuildkitStatus {
  const status: BuildkitStatus = { vertexes: [], logs: [], warnings: [] };
  for (const f of readFields(Buffer.from(base64, 'base64'))) {
    if (!f.bytes) continue;
    if (f.no === 1) {
      const v: BuildkitVertex = { digest: '', name: '', cached: false, started: false, completed: false, error: '' };
      for (const g of readFields(f.bytes)) {
        if (g.no === 1 && g.bytes) v.digest = g.bytes.toString('utf8');
        else if (g.no === 3 && g.bytes) v.name = g.bytes.toString('utf8');
        else if (g.no === 4 && g.num !== undefined) v.cached = g.num !== 0n;
        else if (g.no === 5 && g.bytes) v.started = true;
        else if (g.no === 6 && g.bytes) v.completed = true;
        else if (g.no === 7 && g.bytes) v.error = g.bytes.toString('utf8');
      }
      status.vertexes.push(v);
    } else if (f.no === 3) {
      const log = { vertex: '', msg: '' };
      for (const g of readFields(f.bytes)) {
        if (g.no === 1 && g.bytes) log.vertex = g.bytes.toString('utf8');
        else if (g.no === 4 && g.bytes) log.msg = g.bytes.toString('utf8');
      }
      status.logs.push(log);
    } else if (f.no === 4) {
      for (const g of readFields(f.bytes)) if (g.no === 3 && g.bytes) status.warnings.push(g.bytes.toString('utf8'));
    }
  }
  return status;
}

/** `moby.buildkit.secrets.v1.GetSecretRequest`: the secret id (field 1). */
export function decodeGetSecretRequest(buf: Buffer): { id: string } {
  const f = readFields(buf).find((x) => x.no === 1 && x.bytes);
  return { id: f?.bytes?.toString('utf8') ?? '' };
}

/** `moby.buildkit.secrets.v1.GetSecretResponse`: the value (field 1, bytes). */
export function encodeGetSecretResponse(data: Buffer): Buffer {
  return encodeBytesField(1, data);
}

/** `grpc.health.v1.HealthCheckResponse` with status SERVING (1). */
export function encodeHealthServing(): Buffer {
  return encodeVarintField(1, 1);
}
