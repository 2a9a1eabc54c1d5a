/** The one error type of Cobbery: a fixed set of codes, mapped to HTTP once (in api/). */
export type ErrorCode =
  | "validation_failed"
  | "unauthorized"
  | "not_found"
  | "conflict"
  | "payload_too_large"
  | "idempotency_mismatch"
  | "rate_limited"
  | "internal";

export interface ErrorDetail {
  /** JSON pointer to the offending field, e.g. "/Schedule/Windows/0/Start". */
  Path: string;
  Message: string;
}

export const httpStatusOf: Record<ErrorCode, number> = {
  validation_failed: 400,
  unauthorized: 401,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  idempotency_mismatch: 422,
  rate_limited: 429,
  internal: 500,
};

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetail[];
  /** For vendor errors: whether trying again may succeed. */
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, details: ErrorDetail[] = [], retryable = false) {
    super(message);
    this.name = "AppError";
    this.code = code;
    this.details = details;
    this.retryable = retryable;
  }

  toBody(): { Error: { Code: ErrorCode; Message: string; Details: ErrorDetail[] } } {
    return { Error: { Code: this.code, Message: this.message, Details: this.details } };
  }
}

export const validationFailed = (details: ErrorDetail[], message?: string): AppError =>
  new AppError(
    "validation_failed",
    message ??
      (details.length === 1
        ? `${details[0]?.Path}: ${details[0]?.Message}`
        : "The request is not valid: see Details."),
    details,
  );

export const notFound = (what: string, id: string): AppError =>
  new AppError("not_found", `${what} ${id} does not exist (or belongs to another organization).`);

export const conflict = (message: string): AppError => new AppError("conflict", message);

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;
