import { HttpErrorResponse } from '@angular/common/http';
import type { AbstractControl, FormGroup } from '@angular/forms';
import type { FieldError, Problem } from '@wharf/contracts';

/** The API's problem+json body and its field errors: one definition, in the contracts the API and the portal share. */
export type { Problem };
export type FieldProblem = FieldError;

function isProblem(v: unknown): v is Problem {
  return typeof v === 'object' && v !== null && typeof (v as Problem).code === 'string' && typeof (v as Problem).status === 'number';
}

/** Any failure (HTTP or not) as a Problem the screens can show. */
export function toProblem(err: unknown): Problem {
  if (err instanceof HttpErrorResponse) {
    if (isProblem(err.error)) return err.error;
    if (err.status === 0) return { type: 'about:blank', title: 'Network error', status: 0, detail: 'The server could not be reached. Check your connection and try again.', code: 'network', requestId: null };
    return { type: 'about:blank', title: err.statusText || 'Error', status: err.status, detail: `The server answered ${err.status}.`, code: `http-${err.status}`, requestId: null };
  }
  if (isProblem(err)) return err;
  return { type: 'about:blank', title: 'Error', status: 0, detail: err instanceof Error ? err.message : 'Something went wrong.', code: 'client', requestId: null };
}

/** The control a JSON pointer such as `/email` or `/members/0/role` names inside a form. */
export function controlAt(form: AbstractControl, pointer: string): AbstractControl | null {
  const path = pointer.split('/').filter(Boolean).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  return path.length ? form.get(path) : null;
}

/**
 * Marks the fields named by `errors[].pointer` with a `server` error (shown by <mat-error>) and returns the problem
 * when something is left to show above the form (an error without a matching field, or no field errors at all).
 */
export function applyProblem(form: FormGroup, problem: Problem): Problem | null {
  let unmatched = false;
  for (const e of problem.errors ?? []) {
    const control = controlAt(form, e.pointer);
    if (control) {
      control.setErrors({ ...(control.errors ?? {}), server: e.detail });
      control.markAsTouched();
    } else {
      unmatched = true;
    }
  }
  return !problem.errors?.length || unmatched ? problem : null;
}

/** The server's message for a control, or a generic one for client-side validators. */
export function fieldError(control: AbstractControl | null, label: string): string | null {
  const errors = control?.errors;
  if (!errors) return null;
  if (typeof errors['server'] === 'string') return errors['server'];
  if (errors['required']) return `${label} is required`;
  if (errors['email']) return 'Enter a valid email address';
  if (errors['minlength']) return `${label} needs at least ${(errors['minlength'] as { requiredLength: number }).requiredLength} characters`;
  if (errors['pattern']) return `${label} is not in the expected format`;
  return `${label} is not valid`;
}
