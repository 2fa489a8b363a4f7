import { resolveEnvironment, UnknownReferenceError, unknownReferences } from './env-resolution';

const snap = {
  env: {
    DB_URL: { plain: 'postgres://app:${{ environment.DB_PASSWORD }}@db/${{project.DB_NAME}}' },
    GREETING: { plain: 'hello ${{NAME}}' },
    NAME: { plain: "O'Brien $(rm -rf /) `id`" },
    TOKEN: { enc: 'box:token', aad: 'aad:token' },
  },
  refs: { project: { DB_NAME: { plain: 'shop' } }, environment: { DB_PASSWORD: { enc: 'box:pw', aad: 'aad:pw' } } },
};
const decrypt = (box: string, aad: string) => `${box.slice(4)}-clear(${aad})`;

describe('environment resolution', () => {
  it('substitutes project, environment and application references, decrypting secrets, values verbatim', () => {
    expect(resolveEnvironment(snap, decrypt)).toEqual({
      DB_URL: 'postgres://app:pw-clear(aad:pw)@db/shop',
      GREETING: "hello O'Brien $(rm -rf /) `id`",
      NAME: "O'Brien $(rm -rf /) `id`",
      TOKEN: 'token-clear(aad:token)',
    });
  });

  it('names an unknown reference', () => {
    const bad = { ...snap, env: { ...snap.env, X: { plain: '${{project.MISSING}} and ${{ NOPE }}' } } };
    expect(unknownReferences(bad)).toEqual(['${{project.MISSING}}', '${{ NOPE }}']);
    expect(() => resolveEnvironment(bad, decrypt)).toThrow(UnknownReferenceError);
    expect(() => resolveEnvironment(bad, decrypt)).toThrow('Unknown variable reference ${{project.MISSING}}');
  });

  it('does not resolve references inside referenced values (no loops)', () => {
    const loop = { env: { A: { plain: '${{B}}' }, B: { plain: '${{A}}' } }, refs: { project: {}, environment: {} } };
    expect(resolveEnvironment(loop, decrypt)).toEqual({ A: '${{A}}', B: '${{B}}' });
  });
});
