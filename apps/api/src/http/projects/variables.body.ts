import { ValidationError } from '@wharf/core';
import type { VariableInput } from '@wharf/projects';
import type { UpsertVariablesDto } from './projects.dto';

/** The body names one variable (`key`, `value`, `secret`) or many (`variables`), not both. */
export function variablesOf(dto: UpsertVariablesDto): { items: VariableInput[]; pointerOf: (i: number) => string } {
  const single = dto.key !== undefined || dto.value !== undefined || dto.secret !== undefined;
  if (dto.variables && single) throw ValidationError.field('/variables', 'ambiguous', 'send either key/value/secret or variables, not both');
  if (dto.variables) return { items: dto.variables.map((v) => ({ key: v.key, value: v.value, secret: v.secret })), pointerOf: (i) => `/variables/${i}` };
  if (dto.key === undefined) throw ValidationError.field('/key', 'required', 'key is required (or send variables: [...])');
  if (dto.value === undefined) throw ValidationError.field('/value', 'required', 'value is required');
  return { items: [{ key: dto.key, value: dto.value, secret: dto.secret }], pointerOf: () => '' };
}
