import { describe, expect, it } from 'vitest';
import { s, type Infer } from '../../../src/api/schema.js';

const key = s.object({ accessCode: s.string({ pattern: /^[0-9]+$/, patternDescription: 'digits' }), role: s.enum(1, 2, 3) });
const room = s.object({
  meetingNumber: s.integer({ minimum: 1 }),
  description: s.optional(s.string({ maxLength: 5 })),
  keychain: s.optional(s.array(key, { maxItems: 2 })),
  value: s.optional(s.nullable(s.anyOf<string | number>(s.string(), s.integer()))),
});

describe('schema module', () => {
  it('validates and types a good value', () => {
    const result = room.validate({ meetingNumber: 5, keychain: [{ accessCode: '12', role: 1 }], value: null });
    expect(result.ok).toBe(true);
    if (result.ok) {
      const typed: Infer<typeof room> = result.value;
      expect(typed.meetingNumber).toBe(5);
    }
  });

  it('names every bad field by its dotted path', () => {
    const result = room.validate({ meetingNumber: '5', description: 'too long', keychain: [{ accessCode: '1a', role: 4, extra: 1 }], other: true, value: 1.5 });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const byField = Object.fromEntries(result.issues.map((i) => [i.field, i.message]));
    expect(byField).toMatchObject({
      meetingNumber: 'must be an integer, not string',
      description: 'must be at most 5 characters long',
      'keychain.0.accessCode': 'must be digits',
      'keychain.0.role': 'must be one of 1, 2, 3',
      'keychain.0.extra': 'unknown field',
      other: 'unknown field',
    });
    expect(byField.value).toMatch(/string.*or.*integer/);
    expect(room.validate({}).ok).toBe(false);
    expect(room.validate([]).ok).toBe(false);
    expect(room.validate({ meetingNumber: 1, keychain: [1, 2, 3] })).toMatchObject({ ok: false, issues: [{ field: 'keychain', message: 'must have at most 2 items' }] });
  });

  it('emits the JSON Schema it validates with', () => {
    expect(room.toJsonSchema()).toEqual({
      type: 'object',
      additionalProperties: false,
      required: ['meetingNumber'],
      properties: {
        meetingNumber: { type: 'integer', minimum: 1 },
        description: { type: 'string', maxLength: 5 },
        keychain: {
          type: 'array',
          maxItems: 2,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['accessCode', 'role'],
            properties: { accessCode: { type: 'string', pattern: '^[0-9]+$' }, role: { type: 'integer', enum: [1, 2, 3] } },
          },
        },
        value: { anyOf: [{ type: 'string' }, { type: 'integer' }], nullable: true },
      },
    });
    const partial = room.partial({ minProperties: 1 });
    expect(partial.toJsonSchema().required).toBeUndefined();
    expect(partial.validate({}).ok).toBe(false);
    expect(partial.validate({ description: 'ok' }).ok).toBe(true);
  });
});
