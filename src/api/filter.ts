/**
 * Result filtering (seed 004): `filter=state eq "NY" and phonenumber like "%555%"`.
 *
 * The text is tokenized and parsed into an AST; the AST is evaluated in
 * JavaScript against the API representation of each item, so no part of a
 * filter ever reaches SQL. Anything outside the grammar is a `FilterError`
 * that says where and why.
 *
 *   filter     := condition ( "and" condition )*
 *   condition  := field op value | field ("in" | "notin") "(" value ("," value)* ")"
 *   field      := name ( "." name )*
 *   op         := eq | ne | gt | ge | lt | le | like | ilike
 *   value      := "double quoted" | 'single quoted' | bare word | null | true | false
 */

export type ComparisonOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le' | 'like' | 'ilike';
export type ListOp = 'in' | 'notin';

export type FilterValue = string | null;

export type FilterCondition =
  | { kind: 'compare'; field: string[]; op: ComparisonOp; value: FilterValue; quoted: boolean }
  | { kind: 'list'; field: string[]; op: ListOp; values: Array<{ value: FilterValue; quoted: boolean }> };

export interface FilterAst {
  and: FilterCondition[];
}

export class FilterError extends Error {
  override name = 'FilterError';
}

const MAX_FILTER_LENGTH = 2000;
const MAX_CONDITIONS = 20;
const MAX_LIST = 100;
const COMPARISON_OPS: readonly string[] = ['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'like', 'ilike'];

type Token =
  | { type: 'word'; text: string; at: number }
  | { type: 'string'; text: string; at: number }
  | { type: 'punct'; text: '(' | ')' | ','; at: number }
  | { type: 'end'; at: number };

/** Bare words: letters, digits and the few symbols phone numbers, dates and patterns need. */
const WORD = /[A-Za-z0-9_.%+:@-]/;

export function tokenize(text: string): Token[] {
  if (text.length > MAX_FILTER_LENGTH) throw new FilterError(`is longer than ${MAX_FILTER_LENGTH} characters`);
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ type: 'punct', text: c, at: i });
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const start = i;
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new FilterError(`unterminated quoted value starting at position ${start}`);
        const d = text[i]!;
        if (d === '\\' && i + 1 < text.length) {
          value += text[i + 1];
          i += 2;
          continue;
        }
        if (d === c) {
          i++;
          break;
        }
        value += d;
        i++;
      }
      tokens.push({ type: 'string', text: value, at: start });
      continue;
    }
    if (WORD.test(c)) {
      const start = i;
      while (i < text.length && WORD.test(text[i]!)) i++;
      tokens.push({ type: 'word', text: text.slice(start, i), at: start });
      continue;
    }
    throw new FilterError(`unexpected character ${JSON.stringify(c)} at position ${i}`);
  }
  tokens.push({ type: 'end', at: text.length });
  return tokens;
}

const FIELD = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

export function parseFilter(text: string): FilterAst {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = (): Token => tokens[pos]!;
  const next = (): Token => tokens[pos++]!;
  const describe = (t: Token): string => (t.type === 'end' ? 'the end of the filter' : `${JSON.stringify(t.text)} at position ${t.at}`);

  const readValue = (): { value: FilterValue; quoted: boolean } => {
    const t = next();
    if (t.type === 'string') return { value: t.text, quoted: true };
    if (t.type === 'word') return { value: t.text === 'null' ? null : t.text, quoted: false };
    throw new FilterError(`expected a value, found ${describe(t)}`);
  };

  const conditions: FilterCondition[] = [];
  for (;;) {
    const fieldToken = next();
    if (fieldToken.type !== 'word' || !FIELD.test(fieldToken.text)) {
      throw new FilterError(`expected a field name, found ${describe(fieldToken)}`);
    }
    const field = fieldToken.text.split('.');
    const opToken = next();
    if (opToken.type !== 'word') throw new FilterError(`expected an operator after ${fieldToken.text}, found ${describe(opToken)}`);
    const op = opToken.text.toLowerCase();
    if (op === 'in' || op === 'notin') {
      const open = next();
      if (open.type !== 'punct' || open.text !== '(') throw new FilterError(`expected "(" after ${op}, found ${describe(open)}`);
      const values: Array<{ value: FilterValue; quoted: boolean }> = [];
      for (;;) {
        values.push(readValue());
        if (values.length > MAX_LIST) throw new FilterError(`a list has more than ${MAX_LIST} values`);
        const sep = next();
        if (sep.type === 'punct' && sep.text === ',') continue;
        if (sep.type === 'punct' && sep.text === ')') break;
        throw new FilterError(`expected "," or ")" in the ${op} list, found ${describe(sep)}`);
      }
      conditions.push({ kind: 'list', field, op, values });
    } else if (COMPARISON_OPS.includes(op)) {
      const { value, quoted } = readValue();
      conditions.push({ kind: 'compare', field, op: op as ComparisonOp, value, quoted });
    } else {
      throw new FilterError(`unknown operator ${JSON.stringify(opToken.text)} at position ${opToken.at}`);
    }
    if (conditions.length > MAX_CONDITIONS) throw new FilterError(`has more than ${MAX_CONDITIONS} conditions`);
    const after = peek();
    if (after.type === 'end') break;
    if (after.type === 'word' && after.text.toLowerCase() === 'and') {
      pos++;
      continue;
    }
    throw new FilterError(`expected "and" or the end of the filter, found ${describe(after)}`);
  }
  return { and: conditions };
}

/** The dotted field names a filter uses, for checking them against the object's fields. */
export function filterFields(ast: FilterAst): string[] {
  return ast.and.map((c) => c.field.join('.'));
}

/**
 * The values a dotted field names in an item. Arrays along the way fan out,
 * so `keychain.accessCode eq 1111` matches a room whose keychain holds that
 * code.
 */
function lookup(item: unknown, path: string[]): unknown[] {
  let current: unknown[] = [item];
  for (const key of path) {
    const next: unknown[] = [];
    for (const value of current.flatMap((v) => (Array.isArray(v) ? v : [v]))) {
      if (typeof value !== 'object' || value === null) continue;
      if (Object.prototype.hasOwnProperty.call(value, key)) next.push((value as Record<string, unknown>)[key]);
    }
    current = next;
  }
  return current.flatMap((v) => (Array.isArray(v) ? v : [v]));
}

/** Compares a stored value with a filter literal, by the stored value's type. */
function compare(actual: unknown, literal: FilterValue): number | undefined {
  if (literal === null || actual === null || actual === undefined) return undefined;
  if (typeof actual === 'number') {
    const n = Number(literal);
    if (literal.trim() === '' || !Number.isFinite(n)) return undefined;
    return actual === n ? 0 : actual < n ? -1 : 1;
  }
  if (typeof actual === 'boolean') {
    if (literal !== 'true' && literal !== 'false') return undefined;
    return actual === (literal === 'true') ? 0 : actual ? 1 : -1;
  }
  if (typeof actual === 'string') return actual === literal ? 0 : actual < literal ? -1 : 1;
  return undefined;
}

/**
 * SQL LIKE (`%` any run, `_` one character) in at most text × pattern steps: a greedy match
 * that, on a mismatch, backtracks only to the last `%`. A RegExp built from
 * the pattern would backtrack exponentially on patterns like `%a%a%a%b`,
 * and filters come from API clients.
 */
export function likeMatches(text: string, pattern: string, ignoreCase: boolean): boolean {
  const t = [...(ignoreCase ? text.toLowerCase() : text)];
  const p = [...(ignoreCase ? pattern.toLowerCase() : pattern)];
  let ti = 0;
  let pi = 0;
  let starPi = -1;
  let starTi = 0;
  while (ti < t.length) {
    if (pi < p.length && (p[pi] === '_' || (p[pi] !== '%' && p[pi] === t[ti]))) {
      ti++;
      pi++;
    } else if (pi < p.length && p[pi] === '%') {
      starPi = pi++;
      starTi = ti;
    } else if (starPi >= 0) {
      pi = starPi + 1;
      ti = ++starTi;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '%') pi++;
  return pi === p.length;
}

function equals(actual: unknown, literal: FilterValue): boolean {
  if (literal === null) return actual === null || actual === undefined;
  return compare(actual, literal) === 0;
}

function matchValue(actual: unknown, condition: FilterCondition): boolean {
  if (condition.kind === 'list') return condition.values.some(({ value }) => equals(actual, value));
  const { op, value } = condition;
  switch (op) {
    case 'eq':
    case 'ne':
      return equals(actual, value);
    case 'like':
    case 'ilike': {
      if (value === null || (typeof actual !== 'string' && typeof actual !== 'number')) return false;
      return likeMatches(String(actual), value, op === 'ilike');
    }
    default: {
      const order = compare(actual, value);
      if (order === undefined) return false;
      if (op === 'gt') return order > 0;
      if (op === 'ge') return order >= 0;
      if (op === 'lt') return order < 0;
      return order <= 0;
    }
  }
}

function matchCondition(item: unknown, condition: FilterCondition): boolean {
  const values = lookup(item, condition.field);
  // A missing field counts as null.
  const candidates = values.length === 0 ? [null] : values;
  const any = candidates.some((actual) => matchValue(actual, condition));
  // Negative operators hold when no value matches the positive form.
  const negative = condition.op === 'ne' || condition.op === 'notin';
  return negative ? !any : any;
}

export function matchesFilter(item: unknown, ast: FilterAst): boolean {
  return ast.and.every((condition) => matchCondition(item, condition));
}
