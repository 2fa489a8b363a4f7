import { ValidationError } from '@wharf/core';
import { MAX_VARIABLE_VALUE_BYTES, validateVariableInputs, variableView } from './variable.commands';
import type { VariableEntity } from '../entities/variable.entity';

const at = (i: number) => `/variables/${i}`;
function pointerOf(fn: () => void): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).errors?.[0]?.pointer;
  }
  return undefined;
}

describe('validateVariableInputs', () => {
  it('accepts valid keys and values up to 64 KiB (bytes)', () => {
    expect(() => validateVariableInputs([{ key: '_A1', value: '' }, { key: 'B'.repeat(128), value: 'x'.repeat(MAX_VARIABLE_VALUE_BYTES) }], at)).not.toThrow();
  });
  it('names the offending item', () => {
    expect(pointerOf(() => validateVariableInputs([{ key: 'OK', value: '' }, { key: '9X', value: '' }], at))).toBe('/variables/1/key');
    expect(pointerOf(() => validateVariableInputs([{ key: 'A', value: 'é'.repeat(MAX_VARIABLE_VALUE_BYTES / 2 + 1) }], at))).toBe('/variables/0/value');
    expect(pointerOf(() => validateVariableInputs([{ key: 'A', value: 'a\u0000' }], at))).toBe('/variables/0/value');
    expect(pointerOf(() => validateVariableInputs([{ key: 'A', value: '1' }, { key: 'A', value: '2' }], at))).toBe('/variables/1/key');
  });
});

describe('variableView', () => {
  it('never carries a secret value', () => {
    const row = { id: 'i', key: 'K', value: null, valueEncrypted: 'v1.k.a.b.c', secret: true, projectId: 'p', environmentId: null, createdAt: new Date(0), updatedAt: new Date(0), version: 1 } as VariableEntity;
    expect(variableView(row)).toMatchObject({ value: null, secret: true, valueSet: true });
    expect(JSON.stringify(variableView(row))).not.toContain('v1.k');
  });
});
