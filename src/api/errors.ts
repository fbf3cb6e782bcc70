/**
 * Error answers of the control API, in seed 004's shape:
 * `{"message": ..., "errors": [{"field": ..., "message": ..., "reference_sid": null}]}`.
 */
import type { Issue } from './schema.js';

export interface ErrorDetail {
  field: string | null;
  message: string;
  reference_sid: null;
}

export interface ErrorBody {
  message: string;
  errors: ErrorDetail[];
}

export class ApiError extends Error {
  override name = 'ApiError';

  constructor(
    readonly status: number,
    message: string,
    readonly details: ErrorDetail[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  get body(): ErrorBody {
    return { message: this.message, errors: this.details };
  }
}

export function detail(field: string | null, message: string): ErrorDetail {
  return { field, message, reference_sid: null };
}

/** 400: the request cannot be understood (query syntax, path, JSON syntax). */
export function badRequest(field: string | null, message: string, summary = 'bad request'): ApiError {
  return new ApiError(400, summary, [detail(field, message)]);
}

/** 422: well-formed, but the object does not validate. Each issue names its field. */
export function validationError(issues: Issue[], prefix = ''): ApiError {
  return new ApiError(
    422,
    'object validation error',
    issues.map((issue) => detail(prefix + issue.field || (prefix ? prefix.replace(/\.$/, '') : 'body'), issue.message)),
  );
}

export function unprocessable(field: string | null, message: string): ApiError {
  return new ApiError(422, 'object validation error', [detail(field, message)]);
}

export function notFound(what: string): ApiError {
  return new ApiError(404, 'no item error', [detail(null, `cannot find ${what}`)]);
}

export function conflict(message: string, field: string | null = null): ApiError {
  return new ApiError(409, 'conflict', [detail(field, message)]);
}

export function forbidden(message = 'permission denied'): ApiError {
  return new ApiError(403, 'permission denied', [detail('cause', message)]);
}

export function unauthorized(message: string): ApiError {
  return new ApiError(401, 'authentication required', [detail('cause', message)], {
    'WWW-Authenticate': 'Basic realm="conference", charset="UTF-8"',
  });
}
