import { BuildProgressParser, BUILD_OUTPUT_TAIL, MAX_BUILD_LOG_LINE, splitConcatenatedJson } from './build-progress';

function parse(chunks: (string | Buffer)[]) {
  const lines: string[] = [];
  const p = new BuildProgressParser((l) => lines.push(l));
  for (const c of chunks) p.push(c);
  return { lines, state: p.end() };
}

const msg = (o: object) => `${JSON.stringify(o)}\r\n`;

describe('BuildProgressParser', () => {
  test('a classic build: steps, output, cache lines and the image id from aux', () => {
    const body = [
      msg({ stream: 'Step 1/3 : FROM wharf-test/busybox:1' }),
      msg({ stream: '\n' }),
      msg({ stream: ' ---\u003e 1234abcd\n' }),
      msg({ stream: 'Step 2/3 : COPY app.txt /app.txt\n' }),
      msg({ stream: ' ---\u003e Using cache\n' }),
      msg({ stream: 'Step 3/3 : RUN echo hi\n' }),
      msg({ stream: ' ---\u003e Running in 5678\n' }),
      msg({ stream: 'hi\n' }),
      msg({ aux: { ID: 'sha256:' + 'a'.repeat(64) } }),
      msg({ stream: 'Successfully built aaaa\n' }),
    ].join('');
    const { lines, state } = parse([body]);
    expect(lines).toEqual([
      'Step 1/3 : FROM wharf-test/busybox:1',
      ' ---> 1234abcd',
      'Step 2/3 : COPY app.txt /app.txt',
      ' ---> Using cache',
      'Step 3/3 : RUN echo hi',
      ' ---> Running in 5678',
      'hi',
      'Successfully built aaaa',
    ]);
    expect(state.imageId).toBe('sha256:' + 'a'.repeat(64));
    expect(state.error).toBeUndefined();
    expect(state.step).toBe('Step 3/3 : RUN echo hi');
  });

  test('chunks split anywhere (inside JSON, inside multi-byte characters) give the same lines', () => {
    const body = Buffer.from(msg({ stream: 'Step 1/1 : RUN echo grüße\n' }) + msg({ stream: 'grüße 🚢\n' }) + msg({ aux: { ID: 'sha256:b' } }));
    const whole = parse([body]);
    for (let at = 1; at < body.length; at += 3) {
      // Buffers are decoded chunk by chunk; a split multi-byte character must not be mangled.
      const split = parse([body.subarray(0, at), body.subarray(at)]);
      expect(split.lines).toEqual(whole.lines);
    }
    expect(whole.lines).toEqual(['Step 1/1 : RUN echo grüße', 'grüße 🚢']);
  });

  test('an error fails with the engine message, the failing step and its output', () => {
    const body = [
      msg({ stream: 'Step 2/2 : RUN echo boom \u0026\u0026 false\n' }),
      msg({ stream: ' ---\u003e Running in 99\n' }),
      msg({ stream: 'boom\n' }),
      msg({ errorDetail: { code: 1, message: "The command '/bin/sh -c echo boom && false' returned a non-zero code: 1" }, error: 'ignored when errorDetail has a message' }),
    ].join('');
    const { lines, state } = parse([body]);
    expect(state.error).toBe("The command '/bin/sh -c echo boom && false' returned a non-zero code: 1");
    expect(state.step).toBe('Step 2/2 : RUN echo boom && false');
    expect(state.output).toEqual([' ---> Running in 99', 'boom']);
    expect(lines[lines.length - 1]).toBe("ERROR: The command '/bin/sh -c echo boom && false' returned a non-zero code: 1");
  });

  test('error without errorDetail, status messages, progress bars and carriage returns', () => {
    const { lines, state } = parse([
      msg({ status: 'Pulling from library/x', id: 'latest' }),
      msg({ status: 'Downloading', progressDetail: { current: 1, total: 2 }, progress: '[=>  ]', id: 'abc' }),
      msg({ stream: '10%\r50%\r100%\n' }),
      msg({ error: 'plain error' }),
    ]);
    expect(lines).toEqual(['latest: Pulling from library/x', '100%', 'ERROR: plain error']);
    expect(state.error).toBe('plain error');
  });

  test('text that is not JSON is passed on; concatenated messages are split', () => {
    const { lines, state } = parse(['not json at all\n', '{"stream":"a\\n"}{"stream":"b\\n"}{"aux":{"ID":"sha256:c"}}\n', '[1,2]\n']);
    expect(lines).toEqual(['not json at all', 'a', 'b', '[1,2]']);
    expect(state.imageId).toBe('sha256:c');
    expect(splitConcatenatedJson('{"a":"}{"}{"b":1}')).toEqual(['{"a":"}{"}', '{"b":1}']);
  });

  test('a last message without a newline and stream text without a newline are not lost', () => {
    const { lines, state } = parse(['{"stream":"partial line"}\n', '{"aux":{"ID":"sha256:d"}}']);
    expect(lines).toEqual(['partial line']);
    expect(state.imageId).toBe('sha256:d');
  });

  test('lines and the kept output are bounded', () => {
    const long = 'x'.repeat(MAX_BUILD_LOG_LINE * 3);
    const many = Array.from({ length: BUILD_OUTPUT_TAIL + 10 }, (_, i) => msg({ stream: `line ${i}\n` }));
    const { lines, state } = parse([msg({ stream: `${long}\n` }), ...many]);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(MAX_BUILD_LOG_LINE + 10);
    expect(state.output).toHaveLength(BUILD_OUTPUT_TAIL);
    expect(state.output[state.output.length - 1]).toBe(`line ${BUILD_OUTPUT_TAIL + 9}`);
  });
});

test('terminal colour codes around stderr lines are removed', () => {
  const { lines, state } = parse([msg({ stream: '\u001b[91mto-stderr\n' }), msg({ stream: '\u001b[0mRemoving intermediate container 1\n' })]);
  expect(lines).toEqual(['to-stderr', 'Removing intermediate container 1']);
  expect(state.output).toEqual(['to-stderr', 'Removing intermediate container 1']);
});
