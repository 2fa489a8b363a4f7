import { BuildProgressParser } from './build-progress';
import { decodeBuildkitStatus, decodeGetSecretRequest, encodeBytesField, encodeGetSecretResponse, encodeHealthServing, encodeVarintField, readFields } from './buildkit-wire';
import { redact } from './docker-build.adapter';

const timestamp = Buffer.concat([encodeVarintField(1, 1_764_900_000), encodeVarintField(2, 5)]);
function vertex(v: { digest: string; name: string; cached?: boolean; started?: boolean; completed?: boolean; error?: string }): Buffer {
  return Buffer.concat([
    encodeBytesField(1, v.digest),
    encodeBytesField(2, 'sha256:input'),
    encodeBytesField(3, v.name),
    v.cached ? encodeVarintField(4, 1) : Buffer.alloc(0),
    v.started ? encodeBytesField(5, timestamp) : Buffer.alloc(0),
    v.completed ? encodeBytesField(6, timestamp) : Buffer.alloc(0),
    v.error ? encodeBytesField(7, v.error) : Buffer.alloc(0),
  ]);
}
const log = (vertexDigest: string, msg: string) => Buffer.concat([encodeBytesField(1, vertexDigest), encodeBytesField(2, timestamp), encodeVarintField(3, 1), encodeBytesField(4, msg)]);
const status = (...fields: Buffer[]) => Buffer.concat(fields).toString('base64');
const trace = (aux: string) => `${JSON.stringify({ id: 'moby.buildkit.trace', aux })}\r\n`;

describe('BuildKit wire messages', () => {
  test('a StatusResponse: vertices (started, cached, completed, error), logs and warnings', () => {
    const decoded = decodeBuildkitStatus(
      status(
        encodeBytesField(1, vertex({ digest: 'sha256:a', name: '[1/2] FROM x', started: true, completed: true, cached: true })),
        encodeBytesField(1, vertex({ digest: 'sha256:b', name: '[2/2] RUN false', started: true, error: 'exit code: 1' })),
        encodeBytesField(3, log('sha256:b', 'out\n')),
        encodeBytesField(4, Buffer.concat([encodeBytesField(1, 'sha256:b'), encodeVarintField(2, 1), encodeBytesField(3, 'deprecated thing')])),
      ),
    );
    expect(decoded.vertexes).toEqual([
      { digest: 'sha256:a', name: '[1/2] FROM x', cached: true, started: true, completed: true, error: '' },
      { digest: 'sha256:b', name: '[2/2] RUN false', cached: false, started: true, completed: false, error: 'exit code: 1' },
    ]);
    expect(decoded.logs).toEqual([{ vertex: 'sha256:b', msg: 'out\n' }]);
    expect(decoded.warnings).toEqual(['deprecated thing']);
  });

  test('varints over several bytes, and truncated input is an error (the parser then skips the message)', () => {
    const f = readFields(encodeVarintField(2, 300));
    expect(f).toEqual([{ no: 2, wire: 0, num: 300n }]);
    expect(() => readFields(encodeBytesField(1, 'hello').subarray(0, 4))).toThrow(/truncated/);
  });

  test('secret request and response, health answer', () => {
    expect(decodeGetSecretRequest(Buffer.concat([encodeBytesField(1, 'npm_token'), encodeBytesField(2, Buffer.from([0x0a, 0x01, 0x61]))]))).toEqual({ id: 'npm_token' });
    expect(readFields(encodeGetSecretResponse(Buffer.from('v')))).toEqual([{ no: 1, wire: 2, bytes: Buffer.from('v') }]);
    expect(encodeHealthServing()).toEqual(Buffer.from([0x08, 0x01]));
  });

  test('the progress parser turns traces into lines: each step once, CACHED, output split on newlines across messages, the failing step', () => {
    const lines: string[] = [];
    const p = new BuildProgressParser((l) => lines.push(l));
    p.push(trace(status(encodeBytesField(1, vertex({ digest: 'i', name: '[internal] load remote build context', started: true })))));
    p.push(trace(status(encodeBytesField(1, vertex({ digest: 'a', name: '[1/2] FROM x', started: true })))));
    p.push(trace(status(encodeBytesField(1, vertex({ digest: 'a', name: '[1/2] FROM x', started: true, completed: true, cached: true })))));
    p.push(trace(status(encodeBytesField(1, vertex({ digest: 'b', name: '[2/2] RUN make', started: true })), encodeBytesField(3, log('b', 'comp')))));
    p.push(trace(status(encodeBytesField(3, log('b', 'iling\n\u001b[31mred\u001b[0m\nlast')))));
    p.push(`${JSON.stringify({ errorDetail: { message: 'executor failed running [/bin/sh -c make]: exit code: 2' } })}\n`);
    p.push(trace('!!not base64 protobuf!!'));
    const state = p.end();
    expect(lines).toEqual(['[1/2] FROM x', 'CACHED [1/2] FROM x', '[2/2] RUN make', 'compiling', 'red', 'ERROR: executor failed running [/bin/sh -c make]: exit code: 2', 'last']);
    expect(state.step).toBe('[2/2] RUN make');
    expect(state.error).toMatch(/exit code: 2/);
  });

  test('redact replaces every occurrence of secrets of 4+ characters, longest first', () => {
    expect(redact('token abcd and abcdef, abc', ['abc', 'abcd', 'abcdef'])).toBe('token [secret] and [secret], abc');
  });
});
