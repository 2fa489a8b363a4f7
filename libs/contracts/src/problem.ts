/** One offending field of a rejected request. */
export interface FieldError {
  /** JSON pointer to the offending field, e.g. `/name`. */
  pointer: string;
  code: string;
  detail: string;
}

/** The API's application/problem+json body: written by the API's one filter, read by the portal. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  requestId: string | null;
  errors?: FieldError[];
}
