import { BadRequestException, ValidationError as CvError, ValidationPipe } from '@nestjs/common';
import type { FieldError } from '@wharf/core';

function flatten(errors: CvError[], prefix = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors) {
    const pointer = `${prefix}/${e.property}`;
    for (const [code, detail] of Object.entries(e.constraints ?? {})) {
      out.push({ pointer, code: code === 'whitelistValidation' ? 'unknown-field' : code, detail });
    }
    if (e.children?.length) out.push(...flatten(e.children, pointer));
  }
  return out;
}

/** Every DTO is validated; unknown fields are rejected; errors name the field as a JSON pointer. */
export const validationPipe = new ValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  stopAtFirstError: false,
  exceptionFactory: (errors) => {
    const fieldErrors = flatten(errors);
    return new BadRequestException({ message: fieldErrors.map((f) => `${f.pointer}: ${f.detail}`), errors: fieldErrors });
  },
});
