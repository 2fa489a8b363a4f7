import { normaliseBuildSettings, validateBuildSettings } from './build-settings';

describe('build settings', () => {
  it('defaults to a Dockerfile build and reads older stored settings as one', () => {
    expect(validateBuildSettings(undefined).value).toEqual({ kind: 'dockerfile', dockerfile: 'Dockerfile', target: null, args: {}, publishDirectory: '.', spaFallback: false, secrets: [] });
    expect(normaliseBuildSettings({ kind: 'dockerfile', dockerfile: 'web/Dockerfile', target: null, args: { A: 'b' } })).toMatchObject({ kind: 'dockerfile', dockerfile: 'web/Dockerfile', publishDirectory: '.', secrets: [] });
  });

  it('accepts every build type and a static site with a publish directory and SPA fallback', () => {
    for (const kind of ['dockerfile', 'static', 'auto', 'nixpacks', 'railpack', 'buildpacks']) expect(validateBuildSettings({ kind }).errors).toEqual([]);
    const r = validateBuildSettings({ kind: 'static', publishDirectory: './dist/', spaFallback: true });
    expect(r.errors).toEqual([]);
    expect(r.value).toMatchObject({ kind: 'static', publishDirectory: 'dist', spaFallback: true });
    expect(validateBuildSettings({ kind: 'docker' }).errors).toEqual([{ field: 'kind', message: expect.stringContaining('must be one of') }]);
  });

  it.each([
    ['..', 'parent'], ['../etc', 'parent prefix'], ['dist/../..', 'parent inside'], ['/srv/www', 'absolute'], ['-x', 'option'], ['--help', 'long option'],
    ['dist\nRUN id', 'newline'], ['dist\r', 'carriage return'], ['dist\0', 'NUL'], ['dist dir', 'space'], ['$(id)', 'command substitution'], ['`id`', 'backticks'],
    ['a\\b', 'backslash'], ['dist/*', 'glob'], ['"dist"', 'quotes'], ['', 'empty'],
  ])('refuses the hostile publish directory %j (%s) without echoing it', (dir) => {
    const r = validateBuildSettings({ kind: 'static', publishDirectory: dir });
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0].field).toBe('publishDirectory');
    if (dir.length > 2) expect(r.errors[0].message).not.toContain(dir);
    expect(r.value.publishDirectory).toBe('.');
  });

  it('refuses non-boolean SPA fallback, unknown fields, hostile Dockerfile paths and arguments', () => {
    const r = validateBuildSettings({ spaFallback: 'yes', extra: 1, dockerfile: '../Dockerfile', args: { 'A;B': 'x', OK: 5 } });
    expect(r.errors.map((e) => e.field).sort()).toEqual(['args/A;B', 'args/OK', 'dockerfile', 'extra', 'spaFallback']);
  });

  it('build secrets: names with values; a value left out keeps the stored one, a new name needs a value', () => {
    const r = validateBuildSettings({ secrets: [{ name: 'NPM_TOKEN', value: 's3cret' }, { name: 'KEPT' }] }, { storedSecretNames: ['KEPT', 'GONE'] });
    expect(r.errors).toEqual([]);
    expect(r.value.secrets).toEqual(['NPM_TOKEN', 'KEPT']);
    expect(r.secretValues).toEqual({ NPM_TOKEN: 's3cret' });
    const bad = validateBuildSettings({ secrets: [{ name: 'NEW' }, { name: '-x', value: 'v' }, { name: 'a\nb', value: 'v' }, { name: 'D', value: '' }, { name: 'E', value: 'v', other: 1 }, { name: 'E', value: 'w' }] });
    expect(bad.errors.map((e) => e.field)).toEqual(['secrets/0/value', 'secrets/1/name', 'secrets/2/name', 'secrets/3/value', 'secrets/4/other', 'secrets/5/name']);
    expect(JSON.stringify(bad.errors)).not.toContain('"v"');
    expect(validateBuildSettings({ secrets: 'x' }).errors[0].field).toBe('secrets');
  });
});
