/**
 * The OpenAPI 3 document of the control API, built from the route table and
 * the very schemas that validate requests.
 */
import { DEFAULT_LIMIT, MAX_LIMIT } from './listing.js';
import type { AnyRoute } from './router.js';
import type { JsonSchema } from './schema.js';

const errorBody: JsonSchema = {
  type: 'object',
  required: ['message', 'errors'],
  properties: {
    message: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          field: { type: 'string', nullable: true },
          message: { type: 'string' },
          reference_sid: { type: 'string', nullable: true },
        },
      },
    },
  },
};

const queryParameters = {
  offset: { name: 'offset', in: 'query', description: 'Items skipped (default 0).', schema: { type: 'integer', minimum: 0 } },
  limit: {
    name: 'limit',
    in: 'query',
    description: `Items returned at most (default ${DEFAULT_LIMIT}, at most ${MAX_LIMIT}).`,
    schema: { type: 'integer', minimum: 0, maximum: MAX_LIMIT },
  },
  order: { name: 'order', in: 'query', description: '"<field>", "<field> asc" or "<field> desc".', schema: { type: 'string' } },
  filter: {
    name: 'filter',
    in: 'query',
    description: 'Result filter: `field op value [and ...]`; ops eq ne gt ge lt le like ilike in notin; nested fields with a dot.',
    schema: { type: 'string', maxLength: 2000 },
  },
  include_fields: { name: 'include_fields', in: 'query', description: 'Comma-separated fields to return.', schema: { type: 'string' } },
  exclude_fields: { name: 'exclude_fields', in: 'query', description: 'Comma-separated fields to leave out.', schema: { type: 'string' } },
};

function responseSchema(route: AnyRoute): JsonSchema | undefined {
  const { schema, list } = route.response;
  if (!schema) return undefined;
  const itemSchema = schema.toJsonSchema();
  if (list) {
    return {
      type: 'object',
      properties: {
        [list]: { type: 'array', items: itemSchema },
        last: { type: 'integer', description: 'Index of the last item returned' },
        offset: { type: 'integer' },
        total: { type: 'integer' },
      },
    };
  }
  // List routes without a collection name answer a plain array.
  return route.query === 'list' ? { type: 'array', items: itemSchema } : itemSchema;
}

export function buildOpenApi(routes: AnyRoute[], base: string, version: string): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = `${base}${route.path}`;
    const parameters: unknown[] = [...route.path.matchAll(/\{([A-Za-z_]+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: route.integerParams?.includes(m[1]!) ? { type: 'integer', minimum: 0 } : { type: 'string' },
    }));
    if (route.query === 'list') parameters.push(...Object.values(queryParameters));
    if (route.query === 'item') parameters.push(queryParameters.include_fields, queryParameters.exclude_fields);
    const responses: Record<string, unknown> = {};
    const success = responseSchema(route);
    responses[String(route.response.status)] = {
      description: route.response.description,
      ...(success ? { content: { 'application/json': { schema: success } } } : {}),
      ...(route.response.binary ? { content: { [route.response.binary]: { schema: { type: 'string', format: 'binary' } } } } : {}),
    };
    const error = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
    responses['400'] = error('Bad request (query, path or JSON syntax)');
    responses['401'] = error('Authentication required or bad credentials');
    responses['403'] = error(`Permission denied (allowed roles: ${route.roles.join(', ')})`);
    if (route.path.includes('{')) responses['404'] = error('No such item');
    if (route.body) {
      responses['409'] = error('Conflict');
      responses['413'] = error('Body too large');
      responses['415'] = error('Content-Type must be application/json');
      responses['422'] = error('Object validation error; each error names its field');
    }
    responses['503'] = error('API disabled: no administrator configured');
    paths[path] ??= {};
    paths[path]![route.method.toLowerCase()] = {
      summary: route.summary,
      tags: [route.tag],
      operationId: `${route.method.toLowerCase()}${route.path.replace(/\{([A-Za-z_]+)\}/g, 'By_$1').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
      'x-roles': route.roles,
      parameters,
      ...(route.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: route.body.toJsonSchema() } } } }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'Conference bridge control API',
      version,
      description: 'Seed 004 object model (DIDs, DID groups, meeting rooms, meetings, calls, subscribers) with seed 003 participant actions.',
    },
    servers: [{ url: '/' }],
    security: [{ basic: [] }],
    components: { securitySchemes: { basic: { type: 'http', scheme: 'basic' } }, schemas: { Error: errorBody } },
    paths,
  };
}
