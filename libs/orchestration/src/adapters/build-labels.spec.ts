import { dockerignoreWithLabelled, LABELLED_DOCKERFILE, labelledDockerfile } from './build-labels';

const labels = { 'wharf.install': '01a2-install', 'wharf.deployment': '01a2-dep', 'wharf.commit': 'a'.repeat(40) };

describe('labelledDockerfile', () => {
  test('appends one LABEL line with every label, sorted and quoted, after a final newline', () => {
    expect(labelledDockerfile('FROM busybox\nCOPY . /app\n', labels)).toBe(
      `FROM busybox\nCOPY . /app\nLABEL "wharf.commit"="${'a'.repeat(40)}" "wharf.deployment"="01a2-dep" "wharf.install"="01a2-install"\n`,
    );
    expect(labelledDockerfile('FROM busybox', { 'a.b': 'x' })).toBe('FROM busybox\nLABEL "a.b"="x"\n');
    expect(labelledDockerfile('FROM busybox\r\n', { 'a.b': 'x' })).toBe('FROM busybox\r\nLABEL "a.b"="x"\n');
  });

  test('multi-stage without a target: the line ends the last stage (as the labels parameter does)', () => {
    const text = 'FROM busybox AS build\nRUN echo x\nFROM busybox\nCOPY --from=build /x /x\n';
    expect(labelledDockerfile(text, { 'a.b': 'x' })).toBe(`${text}LABEL "a.b"="x"\n`);
  });

  test('trailing blank and comment lines are fine; a last instruction that continues is not', () => {
    expect(labelledDockerfile('FROM busybox\nRUN true\n\n# done\n', { 'a.b': 'x' })).toMatch(/# done\nLABEL "a.b"="x"\n$/);
    expect(labelledDockerfile('FROM busybox\nRUN echo \\\n', { 'a.b': 'x' })).toBeNull();
    expect(labelledDockerfile('FROM busybox\nRUN echo \\  \n\n# comment\n', { 'a.b': 'x' })).toBeNull();
    // With the backtick escape directive, a trailing backslash is data and a trailing backtick continues.
    expect(labelledDockerfile('# escape=`\nFROM busybox\nRUN dir c:\\\n', { 'a.b': 'x' })).toMatch(/LABEL "a.b"="x"\n$/);
    expect(labelledDockerfile('# escape=`\nFROM busybox\nRUN echo `\n', { 'a.b': 'x' })).toBeNull();
    // A directive after the first instruction is a comment.
    expect(labelledDockerfile('FROM busybox\n# escape=`\nRUN echo \\\n', { 'a.b': 'x' })).toBeNull();
  });

  test.each([
    ['a build target', 'FROM busybox\n', labels, 'stage'],
    ['no labels', 'FROM busybox\n', {}, undefined],
    ['a $ in a value (substituted in LABEL)', 'FROM busybox\n', { 'a.b': '$HOME' }, undefined],
    ['a quote in a value', 'FROM busybox\n', { 'a.b': 'x"y' }, undefined],
    ['a space in a value', 'FROM busybox\n', { 'a.b': 'x y' }, undefined],
    ['a line break in a value', 'FROM busybox\n', { 'a.b': 'x\nRUN id' }, undefined],
    ['an empty value', 'FROM busybox\n', { 'a.b': '' }, undefined],
    ['a label name with a quote', 'FROM busybox\n', { 'a"b': 'x' }, undefined],
    ['an empty Dockerfile', '\n\n', labels, undefined],
    ['a NUL in the Dockerfile', 'FROM busybox\u0000\n', labels, undefined],
    ['an unknown escape character', '# escape=x\nFROM busybox\n', labels, undefined],
    ['a Dockerfile over 1 MiB', `FROM busybox\n${'#'.repeat(1024 * 1024)}\n`, labels, undefined],
  ])('keeps the labels parameter for %s', (_what, text, l, target) => {
    expect(labelledDockerfile(text, l as Record<string, string>, target)).toBeNull();
  });
});

test('dockerignoreWithLabelled: excludes the labelled copy; without a .dockerignore of its own, itself too', () => {
  expect(dockerignoreWithLabelled(null)).toBe(`.dockerignore\n${LABELLED_DOCKERFILE}\n`);
  expect(dockerignoreWithLabelled('node_modules\n!keep')).toBe(`node_modules\n!keep\n${LABELLED_DOCKERFILE}\n`);
  expect(dockerignoreWithLabelled('node_modules\n')).toBe(`node_modules\n${LABELLED_DOCKERFILE}\n`);
  expect(dockerignoreWithLabelled('')).toBe(`${LABELLED_DOCKERFILE}\n`);
});
