import { formatEnv, parseEnv } from './dotenv';

describe('parseEnv', () => {
  it('reads keys, export, comments, quotes and multi-line values', () => {
    const r = parseEnv('# c\n\nA=1\nexport B = two words # note\nC="x\\ny \\"q\\""\nD=\'lit $X\'\nE="multi\nline"\nF=\n');
    expect(r.errors).toEqual([]);
    expect(r.entries.map((e) => [e.key, e.value, e.line])).toEqual([
      ['A', '1', 3], ['B', 'two words', 4], ['C', 'x\ny "q"', 5], ['D', 'lit $X', 6], ['E', 'multi\nline', 7], ['F', '', 9],
    ]);
  });

  it('names every unusable line by its number', () => {
    const r = parseEnv('OK=1\n1BAD=x\nno equals\nOK=2\nQ="open\n');
    expect(r.entries.map((e) => e.key)).toEqual(['OK']);
    expect(r.errors.map((e) => e.line)).toEqual([2, 3, 4, 5]);
    expect(r.errors[0].message).toContain('not a valid key');
    expect(r.errors[2].message).toContain('already set on line 1');
  });

  it('formatEnv output parses back to the same values', () => {
    const vars = [{ key: 'A', value: 'plain' }, { key: 'B', value: 'has space "and" \\ slash\nnewline' }, { key: 'C', value: '' }];
    expect(parseEnv(formatEnv(vars)).entries.map(({ key, value }) => ({ key, value }))).toEqual(vars);
  });
});
