/**
 * One schema mechanism for the control API. A schema both validates a value
 * (answering issues that name the offending field by its dotted path) and
 * emits the OpenAPI 3 / JSON Schema object describing it, so the published
 * contract and the checks made on requests cannot drift apart.
 *
 * Kept deliberately small: the types the seed 004 objects need (string,
 * integer, number, boolean, enum, array, object, nullable, oneOf of
 * literals), no coercion of request bodies (a string "1" is not the
 * integer 1), and objects closed to unknown fields unless told otherwise.
 */

export interface Issue {
  /** Dotted path of the field (`keychain.0.role`); empty for the value itself. */
  field: string;
  message: string;
}

export type JsonSchema = Record<string, unknown>;

export abstract class Schema<T> {
  /** Phantom member carrying the validated type (never set at run time). */
  declare readonly _type: T;
  description: string | undefined;
  readOnlyFlag = false;
  writeOnlyFlag = false;

  abstract check(value: unknown, path: string, issues: Issue[]): void;
  protected abstract json(): JsonSchema;

  /** Validates; returns the value typed, or the issues. */
  validate(value: unknown): { ok: true; value: T } | { ok: false; issues: Issue[] } {
    const issues: Issue[] = [];
    this.check(value, '', issues);
    return issues.length === 0 ? { ok: true, value: value as T } : { ok: false, issues };
  }

  toJsonSchema(): JsonSchema {
    const out = this.json();
    if (this.description) out.description = this.description;
    if (this.readOnlyFlag) out.readOnly = true;
    if (this.writeOnlyFlag) out.writeOnly = true;
    return out;
  }

  describe(text: string): this {
    this.description = text;
    return this;
  }

  /** Marks the field as set by the server (documentation only; request schemas leave such fields out). */
  readOnly(): this {
    this.readOnlyFlag = true;
    return this;
  }

  writeOnly(): this {
    this.writeOnlyFlag = true;
    return this;
  }
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function at(path: string, key: string | number): string {
  return path === '' ? String(key) : `${path}.${key}`;
}

export interface StringOptions {
  minLength?: number;
  maxLength?: number;
  pattern?: RegExp;
  /** Human words for the pattern, used in the error message. */
  patternDescription?: string;
}

export class StringSchema extends Schema<string> {
  constructor(readonly options: StringOptions = {}) {
    super();
  }

  check(value: unknown, path: string, issues: Issue[]): void {
    const { minLength, maxLength, pattern, patternDescription } = this.options;
    if (typeof value !== 'string') {
      issues.push({ field: path, message: `must be a string, not ${typeName(value)}` });
      return;
    }
    if (minLength !== undefined && value.length < minLength) {
      issues.push({ field: path, message: minLength === 1 ? 'must not be empty' : `must be at least ${minLength} characters long` });
    }
    if (maxLength !== undefined && value.length > maxLength) issues.push({ field: path, message: `must be at most ${maxLength} characters long` });
    if (pattern && !pattern.test(value)) issues.push({ field: path, message: `must be ${patternDescription ?? `a string matching ${pattern.source}`}` });
  }

  protected json(): JsonSchema {
    const out: JsonSchema = { type: 'string' };
    if (this.options.minLength !== undefined) out.minLength = this.options.minLength;
    if (this.options.maxLength !== undefined) out.maxLength = this.options.maxLength;
    if (this.options.pattern) out.pattern = this.options.pattern.source;
    return out;
  }
}

export interface NumberOptions {
  minimum?: number;
  maximum?: number;
}

export class NumberSchema extends Schema<number> {
  constructor(
    readonly integer: boolean,
    readonly options: NumberOptions = {},
  ) {
    super();
  }

  check(value: unknown, path: string, issues: Issue[]): void {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      issues.push({ field: path, message: `must be ${this.integer ? 'an integer' : 'a number'}, not ${typeName(value)}` });
      return;
    }
    if (this.integer && !Number.isSafeInteger(value)) {
      issues.push({ field: path, message: 'must be an integer' });
      return;
    }
    const { minimum, maximum } = this.options;
    if (minimum !== undefined && value < minimum) issues.push({ field: path, message: `must be at least ${minimum}` });
    if (maximum !== undefined && value > maximum) issues.push({ field: path, message: `must be at most ${maximum}` });
  }

  protected json(): JsonSchema {
    const out: JsonSchema = { type: this.integer ? 'integer' : 'number' };
    if (this.options.minimum !== undefined) out.minimum = this.options.minimum;
    if (this.options.maximum !== undefined) out.maximum = this.options.maximum;
    return out;
  }
}

export class BooleanSchema extends Schema<boolean> {
  check(value: unknown, path: string, issues: Issue[]): void {
    if (typeof value !== 'boolean') issues.push({ field: path, message: `must be a boolean, not ${typeName(value)}` });
  }

  protected json(): JsonSchema {
    return { type: 'boolean' };
  }
}

export class EnumSchema<const V extends string | number> extends Schema<V> {
  constructor(readonly values: readonly V[]) {
    super();
  }

  check(value: unknown, path: string, issues: Issue[]): void {
    if (!this.values.includes(value as V)) {
      issues.push({ field: path, message: `must be one of ${this.values.map((v) => JSON.stringify(v)).join(', ')}` });
    }
  }

  protected json(): JsonSchema {
    const allStrings = this.values.every((v) => typeof v === 'string');
    const allIntegers = this.values.every((v) => typeof v === 'number' && Number.isInteger(v));
    return { type: allStrings ? 'string' : allIntegers ? 'integer' : undefined, enum: [...this.values] };
  }
}

export class ArraySchema<I> extends Schema<I[]> {
  constructor(
    readonly items: Schema<I>,
    readonly options: { maxItems?: number; minItems?: number } = {},
  ) {
    super();
  }

  check(value: unknown, path: string, issues: Issue[]): void {
    if (!Array.isArray(value)) {
      issues.push({ field: path, message: `must be an array, not ${typeName(value)}` });
      return;
    }
    if (this.options.maxItems !== undefined && value.length > this.options.maxItems) {
      issues.push({ field: path, message: `must have at most ${this.options.maxItems} items` });
      return;
    }
    if (this.options.minItems !== undefined && value.length < this.options.minItems) {
      issues.push({ field: path, message: `must have at least ${this.options.minItems} items` });
    }
    value.forEach((item, i) => this.items.check(item, at(path, i), issues));
  }

  protected json(): JsonSchema {
    const out: JsonSchema = { type: 'array', items: this.items.toJsonSchema() };
    if (this.options.maxItems !== undefined) out.maxItems = this.options.maxItems;
    if (this.options.minItems !== undefined) out.minItems = this.options.minItems;
    return out;
  }
}

export class NullableSchema<T> extends Schema<T | null> {
  constructor(readonly inner: Schema<T>) {
    super();
  }

  check(value: unknown, path: string, issues: Issue[]): void {
    if (value !== null) this.inner.check(value, path, issues);
  }

  protected json(): JsonSchema {
    return { ...this.inner.toJsonSchema(), nullable: true };
  }
}

/** A value valid against at least one of the alternatives. */
export class AnyOfSchema<T> extends Schema<T> {
  constructor(readonly alternatives: Array<Schema<T>>) {
    super();
  }

  check(value: unknown, path: string, issues: Issue[]): void {
    const failures: Issue[][] = [];
    for (const alternative of this.alternatives) {
      const own: Issue[] = [];
      alternative.check(value, path, own);
      if (own.length === 0) return;
      failures.push(own);
    }
    issues.push({ field: path, message: failures.map((f) => f[0]!.message).join(', or ') });
  }

  protected json(): JsonSchema {
    return { anyOf: this.alternatives.map((a) => a.toJsonSchema()) };
  }
}

/** Marks an object property as optional. */
export class Optional<T> {
  constructor(readonly schema: Schema<T>) {}
}

type Shape = Record<string, Schema<unknown> | Optional<unknown>>;

type RequiredKeys<S extends Shape> = { [K in keyof S]: S[K] extends Optional<unknown> ? never : K }[keyof S];
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends Optional<unknown> ? K : never }[keyof S];
type FieldType<F> = F extends Optional<infer T> ? T : F extends Schema<infer T> ? T : never;

export type ObjectType<S extends Shape> = { [K in RequiredKeys<S>]: FieldType<S[K]> } & {
  [K in OptionalKeys<S>]?: FieldType<S[K]>;
};

export class ObjectSchema<S extends Shape> extends Schema<ObjectType<S>> {
  constructor(
    readonly shape: S,
    readonly options: { additionalProperties?: boolean; minProperties?: number; title?: string } = {},
  ) {
    super();
  }

  /** Property names, for field filtering and filter validation. */
  get fieldNames(): string[] {
    return Object.keys(this.shape);
  }

  fieldSchema(name: string): Schema<unknown> | undefined {
    const field = this.shape[name];
    if (field === undefined) return undefined;
    return field instanceof Optional ? field.schema : field;
  }

  check(value: unknown, path: string, issues: Issue[]): void {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      issues.push({ field: path, message: `must be an object, not ${typeName(value)}` });
      return;
    }
    const record = value as Record<string, unknown>;
    if (!this.options.additionalProperties) {
      for (const key of Object.keys(record)) {
        if (!Object.prototype.hasOwnProperty.call(this.shape, key)) issues.push({ field: at(path, key), message: 'unknown field' });
      }
    }
    if (this.options.minProperties !== undefined && Object.keys(record).length < this.options.minProperties) {
      issues.push({ field: path, message: `must have at least ${this.options.minProperties} field(s)` });
    }
    for (const [key, field] of Object.entries(this.shape)) {
      const present = Object.prototype.hasOwnProperty.call(record, key) && record[key] !== undefined;
      if (field instanceof Optional) {
        if (present) field.schema.check(record[key], at(path, key), issues);
      } else if (!present) {
        issues.push({ field: at(path, key), message: 'is required' });
      } else {
        field.check(record[key], at(path, key), issues);
      }
    }
  }

  protected json(): JsonSchema {
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    for (const [key, field] of Object.entries(this.shape)) {
      if (field instanceof Optional) {
        properties[key] = field.schema.toJsonSchema();
      } else {
        properties[key] = field.toJsonSchema();
        required.push(key);
      }
    }
    const out: JsonSchema = { type: 'object', properties };
    if (required.length > 0) out.required = required;
    if (!this.options.additionalProperties) out.additionalProperties = false;
    if (this.options.minProperties !== undefined) out.minProperties = this.options.minProperties;
    if (this.options.title) out.title = this.options.title;
    return out;
  }

  /** The same shape with every field optional (for partial updates). */
  partial(options: { minProperties?: number } = {}): ObjectSchema<{ [K in keyof S]: Optional<FieldType<S[K]>> }> {
    const shape: Record<string, Optional<unknown>> = {};
    for (const [key, field] of Object.entries(this.shape)) shape[key] = field instanceof Optional ? field : new Optional(field);
    return new ObjectSchema(shape as { [K in keyof S]: Optional<FieldType<S[K]>> }, { ...this.options, ...options });
  }

  /** A copy holding only `keys`. */
  pick<K extends keyof S & string>(...keys: K[]): ObjectSchema<Pick<S, K>> {
    const shape = {} as Pick<S, K>;
    for (const key of keys) shape[key] = this.shape[key];
    return new ObjectSchema(shape, { additionalProperties: this.options.additionalProperties });
  }
}

/** The builders. */
export const s = {
  string: (options?: StringOptions) => new StringSchema(options),
  integer: (options?: NumberOptions) => new NumberSchema(true, options),
  number: (options?: NumberOptions) => new NumberSchema(false, options),
  boolean: () => new BooleanSchema(),
  enum: <const V extends string | number>(...values: V[]) => new EnumSchema<V>(values),
  array: <I>(items: Schema<I>, options?: { maxItems?: number; minItems?: number }) => new ArraySchema<I>(items, options),
  object: <S extends Shape>(shape: S, options?: { additionalProperties?: boolean; minProperties?: number; title?: string }) =>
    new ObjectSchema<S>(shape, options),
  nullable: <T>(inner: Schema<T>) => new NullableSchema<T>(inner),
  optional: <T>(schema: Schema<T>) => new Optional<T>(schema),
  anyOf: <T>(...alternatives: Array<Schema<T>>) => new AnyOfSchema<T>(alternatives),
};
