import { describe, expect, it } from 'vitest';
import { FilterError, likeMatches, matchesFilter, parseFilter, tokenize } from '../../../src/api/filter.js';
import { hasField, parseListQuery, listBody } from '../../../src/api/listing.js';
import { s } from '../../../src/api/schema.js';

describe('filter parser', () => {
  it('parses seed 004 examples into an AST', () => {
    expect(parseFilter('state eq "NY" and phonenumber like "%555%"')).toEqual({
      and: [
        { kind: 'compare', field: ['state'], op: 'eq', value: 'NY', quoted: true },
        { kind: 'compare', field: ['phonenumber'], op: 'like', value: '%555%', quoted: true },
      ],
    });
    expect(parseFilter('status in ("active", "suspended")').and[0]).toEqual({
      kind: 'list',
      field: ['status'],
      op: 'in',
      values: [
        { value: 'active', quoted: true },
        { value: 'suspended', quoted: true },
      ],
    });
    expect(parseFilter('trunks.allow_transfer eq false').and[0]).toMatchObject({ field: ['trunks', 'allow_transfer'], value: 'false' });
    expect(parseFilter("name eq 'filter value name'").and[0]).toMatchObject({ value: 'filter value name' });
  });

  it('refuses what is outside the grammar, saying where', () => {
    const cases: Array<[string, RegExp]> = [
      ["name eq 'x'; DROP TABLE dids; --", /unexpected character ";"/],
      ['name eq x or 1 eq 1', /expected "and"/],
      ['name drop x', /unknown operator "drop"/],
      ['name eq', /expected a value/],
      ['name eq "open', /unterminated/],
      ['status in (a, b', /expected "," or "\)"/],
      ['1name eq x', /expected a field name/],
      ['name eq x and', /expected a field name/],
      ['', /expected a field name/],
      ['x'.repeat(3000), /longer than/],
    ];
    for (const [text, message] of cases) {
      expect(() => parseFilter(text), text).toThrow(FilterError);
      expect(() => parseFilter(text), text).toThrow(message);
    }
    expect(() => tokenize('a = b')).toThrow(/"=" at position 2/);
  });

  it('evaluates against objects by the stored value type, fanning out over arrays', () => {
    const room = { meetingNumber: 1000, description: 'Board Room', open: true, keychain: [{ accessCode: '1111', role: 1 }, { accessCode: '2222', role: 2 }] };
    const yes = (f: string) => expect(matchesFilter(room, parseFilter(f)), f).toBe(true);
    const no = (f: string) => expect(matchesFilter(room, parseFilter(f)), f).toBe(false);
    yes('meetingNumber eq 1000');
    yes('meetingNumber gt 999 and meetingNumber le 1000');
    no('meetingNumber lt 1000');
    no('meetingNumber eq abc');
    yes('description ilike "board%"');
    no('description like "board%"');
    yes('description like "B_ard Room"');
    no('description like "Board"');
    yes('open eq true');
    yes('keychain.accessCode eq 2222');
    no('keychain.accessCode eq 3333');
    yes('keychain.role in (2, 3)');
    no('keychain.role notin (1, 3)');
    yes('keychain.accessCode ne 3333');
    yes('missing eq null');
    no('description eq null');
    // Regex metacharacters in like patterns are literal.
    expect(matchesFilter({ a: 'x.y' }, parseFilter('a like "x.y"'))).toBe(true);
    expect(matchesFilter({ a: 'xzy' }, parseFilter('a like "x.y"'))).toBe(false);
  });
});

describe('list queries', () => {
  const item = s.object({ id: s.integer(), name: s.string(), nested: s.object({ inner: s.string() }), tags: s.array(s.object({ tag: s.string() })) });

  it('knows nested fields through objects and arrays', () => {
    expect(hasField(item, 'nested.inner')).toBe(true);
    expect(hasField(item, 'tags.tag')).toBe(true);
    expect(hasField(item, 'nested.other')).toBe(false);
    expect(hasField(item, 'constructor')).toBe(false);
  });

  it('pages, orders and selects fields in the Conference API list shape', () => {
    const items = [1, 2, 3, 4, 5].map((id) => ({ id, name: `n${id}`, nested: { inner: 'x' }, tags: [] }));
    const query = parseListQuery(new URLSearchParams('offset=1&limit=2&order=id desc&include_fields=id'), item);
    expect(listBody('items', items, query)).toEqual({ items: [{ id: 4 }, { id: 3 }], last: 2, offset: 1, total: 5 });
    expect(() => parseListQuery(new URLSearchParams('limit=-1'), item)).toThrow();
    expect(() => parseListQuery(new URLSearchParams('filter=unknown eq 1'), item)).toThrow();
    expect(() => parseListQuery(new URLSearchParams('offset=1&offset=2'), item)).toThrow();
  });
});

describe('like matching', () => {
  /** Reference: dynamic programming over (text, pattern) prefixes. */
  function reference(text: string, pattern: string): boolean {
    const t = [...text];
    const p = [...pattern];
    let row = new Array<boolean>(t.length + 1).fill(false);
    row[0] = true;
    for (const c of p) {
      const next = new Array<boolean>(t.length + 1).fill(false);
      if (c === '%') {
        let seen = false;
        for (let i = 0; i <= t.length; i++) next[i] = seen = seen || row[i]!;
      } else {
        for (let i = 1; i <= t.length; i++) next[i] = row[i - 1]! && (c === '_' || c === t[i - 1]);
      }
      row = next;
    }
    return row[t.length]!;
  }

  it('agrees with a reference matcher on random texts and patterns', () => {
    let seed = 12345;
    const random = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    const pick = (alphabet: string, length: number): string => Array.from({ length }, () => alphabet[random(alphabet.length)]).join('');
    for (let i = 0; i < 3000; i++) {
      const text = pick('ab', random(9));
      const pattern = pick('ab%_', random(7));
      expect(likeMatches(text, pattern, false), `${JSON.stringify(text)} like ${JSON.stringify(pattern)}`).toBe(reference(text, pattern));
    }
    expect(likeMatches('Board Room', 'board%', true)).toBe(true);
    expect(likeMatches('Board Room', 'board%', false)).toBe(false);
    expect(likeMatches('', '%', false)).toBe(true);
    expect(likeMatches('x', '', false)).toBe(false);
  });

  it('answers patterns that make a backtracking RegExp explode', () => {
    // A RegExp translation needed ~30 s for 10 wildcards on 40 characters;
    // this matcher takes at most text × pattern steps, so the suite's own timeout
    // is the only guard needed here.
    const text = 'a'.repeat(2000);
    const pattern = '%a'.repeat(40) + '%b';
    expect(likeMatches(text, pattern, false)).toBe(false);
    expect(matchesFilter({ customName: text }, parseFilter(`customName like "${'%a'.repeat(12)}%b"`))).toBe(false);
  });
});
