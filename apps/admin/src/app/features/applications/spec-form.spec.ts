import { linesToArgv, mountsToSpec, numOrNull, parseEnvLines, portsToSpec } from './spec-form';

describe('spec form helpers', () => {
  it('turns lines into an argv (each line one argument, never a shell string)', () => {
    expect(linesToArgv('/bin/sh\n-c\necho "a b" && ls\n')).toEqual(['/bin/sh', '-c', 'echo "a b" && ls']);
    expect(linesToArgv('  \n')).toBeNull();
  });
  it('parses KEY=value lines (the first = splits) and refuses a line without =', () => {
    expect(parseEnvLines('BODY=hello = world\n\nX=')).toEqual([{ key: 'BODY', value: 'hello = world', secret: false }, { key: 'X', value: '', secret: false }]);
    expect(() => parseEnvLines('nope')).toThrow(/KEY=value/);
  });
  it('drops empty port and volume rows and keeps an unset published port unset', () => {
    expect(portsToSpec([{ target: 8080, published: null, protocol: 'tcp', mode: 'host' }, { target: null, published: 1, protocol: 'tcp', mode: 'host' }])).toEqual([{ target: 8080, protocol: 'tcp', mode: 'host' }]);
    expect(mountsToSpec([{ type: 'volume', source: 'data', target: '/data', readOnly: false }, { type: 'bind', source: '', target: '/x', readOnly: true }])).toHaveLength(1);
    expect(numOrNull('')).toBeNull();
    expect(numOrNull('0.5')).toBe(0.5);
  });
});
