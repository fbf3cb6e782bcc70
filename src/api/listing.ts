/**
 * Pagination, result filtering and field filtering (seed 004), implemented
 * once for every collection. Lists answer in the Conference API's shape:
 * `{"<collection>": [...], "last": <index of the last item returned>, "offset": n, "total": n}`.
 */
import { badRequest } from './errors.js';
import { filterFields, FilterError, matchesFilter, parseFilter, type FilterAst } from './filter.js';
import { ArraySchema, NullableSchema, ObjectSchema, Optional, type Schema } from './schema.js';

export const MAX_LIMIT = 1000;
export const DEFAULT_LIMIT = 10;

export const LIST_PARAMETERS = ['offset', 'limit', 'order', 'filter', 'include_fields', 'exclude_fields'] as const;
export const ITEM_PARAMETERS = ['include_fields', 'exclude_fields'] as const;

export interface ListQuery {
  offset: number;
  limit: number;
  order?: { field: string; descending: boolean };
  filter?: FilterAst;
  fields: FieldSelection;
}

export interface FieldSelection {
  include?: string[];
  exclude?: string[];
}

type AnySchema = Schema<unknown>;

function unwrap(schema: AnySchema | undefined): AnySchema | undefined {
  let current = schema;
  for (;;) {
    if (current instanceof NullableSchema) current = current.inner as AnySchema;
    else if (current instanceof ArraySchema) current = current.items as AnySchema;
    else return current;
  }
}

/** Whether `path` (dotted) names a field of objects described by `schema`. */
export function hasField(schema: ObjectSchema<never> | AnySchema, path: string): boolean {
  let current: AnySchema | undefined = schema as AnySchema;
  for (const part of path.split('.')) {
    current = unwrap(current);
    if (!(current instanceof ObjectSchema)) return false;
    const field = (current.shape as Record<string, AnySchema | Optional<unknown>>)[part];
    if (field === undefined || !Object.prototype.hasOwnProperty.call(current.shape, part)) return false;
    current = field instanceof Optional ? (field.schema as AnySchema) : field;
  }
  return true;
}

function checkUnknownParameters(params: URLSearchParams, allowed: readonly string[]): void {
  for (const key of new Set(params.keys())) {
    if (!allowed.includes(key)) throw badRequest(key, `unknown query parameter (accepted: ${allowed.join(', ') || 'none'})`);
  }
  for (const key of allowed) {
    if (params.getAll(key).length > 1) throw badRequest(key, 'given more than once');
  }
}

function parseInteger(params: URLSearchParams, name: string, fallback: number, max?: number): number {
  const raw = params.get(name);
  if (raw === null) return fallback;
  if (!/^\d{1,9}$/.test(raw)) throw badRequest(name, 'must be a non-negative integer');
  const value = Number(raw);
  if (max !== undefined && value > max) throw badRequest(name, `must not exceed ${max}`);
  return value;
}

function parseFieldList(params: URLSearchParams, name: string, schema: AnySchema): string[] | undefined {
  const raw = params.get(name);
  if (raw === null) return undefined;
  const fields = raw
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f !== '');
  for (const field of fields) {
    if (!(schema instanceof ObjectSchema) || !Object.prototype.hasOwnProperty.call(schema.shape, field)) {
      throw badRequest(name, `unknown field ${JSON.stringify(field)}`);
    }
  }
  return fields;
}

export function parseFieldSelection(params: URLSearchParams, schema: AnySchema, allowed: readonly string[] = ITEM_PARAMETERS): FieldSelection {
  checkUnknownParameters(params, allowed);
  return { include: parseFieldList(params, 'include_fields', schema), exclude: parseFieldList(params, 'exclude_fields', schema) };
}

export function parseListQuery(params: URLSearchParams, itemSchema: AnySchema, extra: readonly string[] = []): ListQuery {
  checkUnknownParameters(params, [...LIST_PARAMETERS, ...extra]);
  const offset = parseInteger(params, 'offset', 0);
  const limit = parseInteger(params, 'limit', DEFAULT_LIMIT, MAX_LIMIT);
  const query: ListQuery = { offset, limit, fields: parseFieldSelection(params, itemSchema, [...LIST_PARAMETERS, ...extra]) };
  const order = params.get('order');
  if (order !== null) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_.]*)(?:\s+(asc|desc))?\s*$/i.exec(order);
    if (!match) throw badRequest('order', 'must be "<field>", "<field> asc" or "<field> desc"');
    if (!hasField(itemSchema, match[1]!)) throw badRequest('order', `unknown field ${JSON.stringify(match[1])}`);
    query.order = { field: match[1]!, descending: (match[2] ?? 'asc').toLowerCase() === 'desc' };
  }
  const filter = params.get('filter');
  if (filter !== null) {
    let ast: FilterAst;
    try {
      ast = parseFilter(filter);
    } catch (err) {
      if (err instanceof FilterError) throw badRequest('filter', err.message, 'invalid filter');
      throw err;
    }
    for (const field of filterFields(ast)) {
      if (!hasField(itemSchema, field)) throw badRequest('filter', `unknown field ${JSON.stringify(field)}`, 'invalid filter');
    }
    query.filter = ast;
  }
  return query;
}

function fieldValue(item: unknown, path: string): unknown {
  let current = item;
  for (const part of path.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function compareValues(a: unknown, b: unknown): number {
  const rank = (v: unknown): number => (v === null || v === undefined ? 0 : 1);
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  if (rank(a) === 0) return 0;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = typeof a === 'string' ? a : JSON.stringify(a);
  const sb = typeof b === 'string' ? b : JSON.stringify(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

export function selectFields<T extends object>(item: T, fields: FieldSelection): Partial<T> {
  let out = { ...item } as Record<string, unknown>;
  if (fields.include) {
    const keep = new Set(fields.include);
    out = Object.fromEntries(Object.entries(out).filter(([key]) => keep.has(key)));
  }
  if (fields.exclude) for (const key of fields.exclude) delete out[key];
  return out as Partial<T>;
}

/** Filters, orders and pages `items`; answers the items of the page and the total that matched. */
export function applyListQuery<T extends object>(items: T[], query: ListQuery): { page: Array<Partial<T>>; total: number } {
  let matched = query.filter ? items.filter((item) => matchesFilter(item, query.filter!)) : [...items];
  if (query.order) {
    const { field, descending } = query.order;
    matched = matched
      .map((item, index) => ({ item, index }))
      .sort((a, b) => compareValues(fieldValue(a.item, field), fieldValue(b.item, field)) * (descending ? -1 : 1) || a.index - b.index)
      .map(({ item }) => item);
  }
  const page = matched.slice(query.offset, query.offset + query.limit).map((item) => selectFields(item, query.fields));
  return { page, total: matched.length };
}

/** The Conference API's list body. */
export function listBody<T extends object>(collection: string, items: T[], query: ListQuery): Record<string, unknown> {
  const { page, total } = applyListQuery(items, query);
  return { [collection]: page, last: query.offset + page.length - 1, offset: query.offset, total };
}
