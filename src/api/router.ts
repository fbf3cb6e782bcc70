/**
 * A small router on node:http for the control API. Each route declares its
 * method, path template, path parameter types, body schema, query kind and
 * the roles allowed; the same declarations produce the OpenAPI document.
 */
import type { IncomingMessage } from 'node:http';
import { ApiError, badRequest, detail, validationError } from './errors.js';
import type { FieldSelection, ListQuery } from './listing.js';
import type { ObjectSchema, Schema } from './schema.js';

export type SubscriberRole = 'administrator' | 'operator' | 'user';
export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface Principal {
  sid: string;
  login: string;
  role: SubscriberRole;
}

export interface RouteContext<B> {
  params: Record<string, string>;
  /** Path parameters declared as integers, converted. */
  ids: Record<string, number>;
  query: URLSearchParams;
  body: B;
  principal: Principal;
  request: IncomingMessage;
  /** Parsed pagination, filter and field selection (routes with `query: 'list'`). */
  list: ListQuery;
  /** Field selection (routes with `query: 'list'` or `'item'`). */
  fields: FieldSelection;
}

export interface RouteResult {
  status: number;
  body?: unknown;
  /** A file sent as the body instead (downloads); `body` is ignored then. */
  file?: FileBody;
}

export interface FileBody {
  path: string;
  contentType: string;
  /** The name the client saves it under (Content-Disposition). */
  name: string;
}

export interface ResponseSpec {
  status: number;
  description: string;
  schema?: Schema<unknown>;
  /** The body is a list in the Conference API shape `{collection: [...], last, offset, total}`. */
  list?: string;
  /** The body is a file of this media type (a download), not JSON. */
  binary?: string;
}

export interface RouteSpec<B = undefined> {
  method: Method;
  /** Template below the API base, e.g. `/meetingRooms/{meetingNumber}/keychain/{id}`. */
  path: string;
  summary: string;
  tag: string;
  /** Path parameters that must be integers (others are strings). */
  integerParams?: string[];
  body?: Schema<B>;
  /** `list`: pagination, filter and field filtering; `item`: field filtering only; default none. */
  query?: 'list' | 'item' | 'none';
  /** Object schema of the items, for query validation and the OpenAPI document. */
  itemSchema?: ObjectSchema<never>;
  response: ResponseSpec;
  roles: SubscriberRole[];
  handler: (ctx: RouteContext<B>) => RouteResult | Promise<RouteResult>;
}

// Routes are stored type-erased; `add` keeps the handler and body schema in step.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRoute = RouteSpec<any>;

export interface RouteMatch {
  route: AnyRoute;
  params: Record<string, string>;
  ids: Record<string, number>;
}

const SEGMENT_PARAM = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

export class Router {
  readonly routes: AnyRoute[] = [];

  add<B>(route: RouteSpec<B>): void {
    this.routes.push(route as AnyRoute);
  }

  /**
   * Finds the route for already-decoded path segments. Throws 404 when no
   * template matches the path and 405 when one does but not the method.
   */
  match(method: string, segments: string[]): RouteMatch {
    const allowed: string[] = [];
    for (const route of this.routes) {
      const template = route.path.split('/').filter((s) => s !== '');
      if (template.length !== segments.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < template.length; i++) {
        const param = SEGMENT_PARAM.exec(template[i]!);
        if (param) params[param[1]!] = segments[i]!;
        else if (template[i] !== segments[i]) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      if (route.method !== method) {
        allowed.push(route.method);
        continue;
      }
      const ids: Record<string, number> = {};
      for (const name of route.integerParams ?? []) {
        const raw = params[name]!;
        if (!/^\d{1,15}$/.test(raw)) throw badRequest(name, `path parameter must be a non-negative integer, not ${JSON.stringify(raw.slice(0, 40))}`);
        ids[name] = Number(raw);
      }
      return { route, params, ids };
    }
    if (allowed.length > 0) {
      throw new ApiError(405, 'method not allowed', [detail('method', `${method} is not allowed here; use ${[...new Set(allowed)].join(', ')}`)], {
        Allow: [...new Set(allowed)].join(', '),
      });
    }
    throw new ApiError(404, 'not found', [detail('path', 'no such resource')]);
  }
}

/**
 * Splits a request path below `base` into decoded segments, refusing what a
 * path must never carry: `.`/`..` segments (raw or percent-encoded),
 * encoded slashes or backslashes, NUL and other control characters.
 */
export function pathSegments(rawPath: string, base: string): string[] | undefined {
  if (rawPath !== base && !rawPath.startsWith(`${base}/`)) return undefined;
  const rest = rawPath.slice(base.length);
  const segments: string[] = [];
  for (const raw of rest.split('/')) {
    if (raw === '') continue;
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      throw badRequest('path', 'is not valid percent-encoded UTF-8');
    }
    if (segment === '.' || segment === '..') throw badRequest('path', 'must not contain "." or ".." segments');
    if (/[/\\]/.test(segment)) throw badRequest('path', 'must not contain encoded slashes');
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(segment)) throw badRequest('path', 'must not contain control characters');
    if (segment.length > 200) throw badRequest('path', 'has a segment longer than 200 characters');
    segments.push(segment);
  }
  return segments;
}

export const DEFAULT_BODY_LIMIT = 64 * 1024;

/**
 * Reads a JSON request body: the content type must be application/json
 * (415 otherwise), the size at most `limit` bytes (413, and reading stops),
 * the text valid JSON (400 naming the position).
 */
export async function readJsonBody(request: IncomingMessage, limit = DEFAULT_BODY_LIMIT): Promise<unknown> {
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const declared = request.headers['content-length'];
  const hasBody = declared !== undefined ? Number(declared) > 0 : request.headers['transfer-encoding'] !== undefined;
  if (!hasBody) {
    throw new ApiError(400, 'cannot parse json. Check json for validity', [detail('body', 'a JSON body is required')]);
  }
  if (type !== 'application/json') {
    throw new ApiError(415, 'unsupported media type', [detail('Content-Type', `must be application/json, not ${JSON.stringify(type || '(none)')}`)]);
  }
  if (declared !== undefined && Number(declared) > limit) {
    throw new ApiError(413, 'request body too large', [detail('body', `must be at most ${limit} bytes`)], { Connection: 'close' });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        request.off('data', onData);
        request.pause();
        reject(new ApiError(413, 'request body too large', [detail('body', `must be at most ${limit} bytes`)], { Connection: 'close' }));
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () => resolve());
    request.once('error', reject);
  });
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ApiError(400, 'cannot parse json. Check json for validity', [detail('body', (err as Error).message)]);
  }
}

/** Validates a body against its schema: 422 naming every bad field. */
export function validateBody<B>(schema: Schema<B>, value: unknown): B {
  const result = schema.validate(value);
  if (!result.ok) throw validationError(result.issues);
  return result.value;
}
