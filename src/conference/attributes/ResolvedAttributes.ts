import type { Logger } from '../../log.js';
import type { Attribute, ConferenceStore, Did, MeetingRoom } from '../../store/StoreTypes.js';
import type { Role } from '../Role.js';
import type { AttributeKind, AttributeTemplate } from './attributeCatalog.js';
import { ATTRIBUTE_CHOICES, ATTRIBUTE_LEVEL, attributeKind, findAttributeTemplate } from './attributeCatalog.js';
import { callFlowById } from './callFlows.js';

/** Where a value came from, lowest first: each level overrides the ones before it. */
export type AttributeLevel = 'callFlow' | 'didGroup' | 'did' | 'meetingRoom' | 'meeting';

export interface AttributeSources {
  /** The call flow's id (seed 004: 1 SPECTEL, 3 CONF). */
  callFlowId: number;
  didGroup?: readonly Attribute[];
  did?: readonly Attribute[];
  meetingRoom?: readonly Attribute[];
  /** Values set on the live meeting; allowed wherever the room's are. */
  meeting?: readonly Attribute[];
}

/** Seed 004's per-role call limits ("h:p:l"); -1 is no limit. */
export type RoleLimits = Readonly<Record<Role, number>>;

const ROLE_LETTERS: Readonly<Record<string, Role>> = { h: 'host', p: 'participant', l: 'listener' };

/** The bit a level needs in a template's `group`; the call flow may carry every attribute. */
const LEVEL_BIT: Readonly<Record<AttributeLevel, number>> = {
  callFlow: 0,
  didGroup: ATTRIBUTE_LEVEL.didGroup,
  did: ATTRIBUTE_LEVEL.did,
  meetingRoom: ATTRIBUTE_LEVEL.meetingRoom,
  meeting: ATTRIBUTE_LEVEL.meetingRoom,
};

interface Entry {
  value: string;
  level: AttributeLevel;
}

/**
 * The attributes in force for one call: the call flow's template values,
 * overridden by the DID group, the DID, the meeting room and the live
 * meeting, each only where seed 004 allows the attribute (its `group`
 * bits). A value set where it is not allowed, an unknown name, or a value
 * its kind cannot read (a word for an integer, "x" in a role string) is
 * ignored with a log line, and the level below keeps its say.
 *
 * Built per call from the store (see `resolveAttributes`), so a change
 * applies to the next caller without a restart.
 */
export class ResolvedAttributes {
  private readonly entries = new Map<string, Entry>();

  constructor(sources: AttributeSources, logger?: Logger) {
    const flow = callFlowById(sources.callFlowId);
    for (const [name, value] of Object.entries(flow.defaults)) this.entries.set(name, { value, level: 'callFlow' });
    const levels: Array<[AttributeLevel, readonly Attribute[] | undefined]> = [
      ['didGroup', sources.didGroup],
      ['did', sources.did],
      ['meetingRoom', sources.meetingRoom],
      ['meeting', sources.meeting],
    ];
    for (const [level, attributes] of levels) {
      for (const attribute of attributes ?? []) {
        const problem = ResolvedAttributes.problemWith(attribute, level);
        if (problem) {
          logger?.warn({ attribute: attribute.name, value: attribute.value, level }, `attribute ignored: ${problem}`);
          continue;
        }
        this.entries.set(attribute.name, { value: attribute.value.trim(), level });
      }
    }
  }

  /** Why a value cannot be taken at a level, or undefined when it can. */
  static problemWith(attribute: Attribute, level: AttributeLevel): string | undefined {
    const template = findAttributeTemplate(attribute.name);
    if (!template) return 'unknown attribute';
    const bit = LEVEL_BIT[level];
    if (bit !== 0 && (template.group & bit) === 0) return `not allowed on the ${level} level`;
    const value = String(attribute.value).trim();
    // An empty value means "not set here": it is taken and reads as the kind's empty value.
    if (value === '') return undefined;
    return readable(template, value) ? undefined : `not a valid ${attributeKind(template)} value`;
  }

  /** The raw value in force, or undefined when no level sets it. */
  get(name: string): string | undefined {
    return this.entries.get(name)?.value;
  }

  /** The level the value in force came from. */
  levelOf(name: string): AttributeLevel | undefined {
    return this.entries.get(name)?.level;
  }

  text(name: string, fallback = ''): string {
    return this.get(name) ?? fallback;
  }

  /** An integer attribute; `fallback` when unset or empty. */
  integer(name: string, fallback: number): number {
    const value = this.get(name);
    return value === undefined || value === '' ? fallback : Number(value);
  }

  /** An on/off attribute (001/003 booleans also read true/false, 1/0). */
  isOn(name: string): boolean {
    return ON_WORDS.has((this.get(name) ?? '').toLowerCase());
  }

  /** A choice attribute, lower case; `fallback` when unset or empty. */
  choice<T extends string>(name: string, fallback: T): T {
    const value = (this.get(name) ?? '').toLowerCase();
    return (value === '' ? fallback : value) as T;
  }

  /** The roles an access-level string ("hpl", "h", "") names. */
  roles(name: string): ReadonlySet<Role> {
    const out = new Set<Role>();
    for (const letter of (this.get(name) ?? '').toLowerCase()) {
      const role = ROLE_LETTERS[letter];
      if (role) out.add(role);
    }
    return out;
  }

  /** Whether an access-level attribute includes `role`. */
  allows(name: string, role: Role): boolean {
    return this.roles(name).has(role);
  }

  /** Per-role limits ("h:p:l", -1 no limit); no limit for a role left out. */
  roleLimits(name: string): RoleLimits {
    const parts = (this.get(name) ?? '').split(':').map((part) => (part.trim() === '' ? -1 : Number(part)));
    return { host: parts[0] ?? -1, participant: parts[1] ?? -1, listener: parts[2] ?? -1 };
  }
}

const ON_WORDS = new Set(['on', 'true', '1', 'yes']);
const OFF_WORDS = new Set(['off', 'false', '0', 'no']);

function readable(template: AttributeTemplate, value: string): boolean {
  const kind: AttributeKind = attributeKind(template);
  switch (kind) {
    case 'integer':
      return /^-?\d{1,9}$/.test(value);
    case 'onoff':
      return ON_WORDS.has(value.toLowerCase()) || OFF_WORDS.has(value.toLowerCase());
    case 'roles':
      return /^[hpl]{0,3}$/i.test(value);
    case 'choice':
      return ATTRIBUTE_CHOICES[template.name]!.includes(value.toLowerCase());
    case 'dtmf':
      return /^[0-9*#A-D]{1,8}$/i.test(value);
    case 'limits':
      return /^-?\d{1,6}(:-?\d{1,6}){0,2}$/.test(value);
    case 'text':
      return value.length <= 1024;
  }
}

export interface ResolveAttributesInput {
  store: Pick<ConferenceStore, 'getDidGroup'>;
  did: Did;
  /** The meeting room, once the access code has picked one. */
  room?: MeetingRoom;
  /** Values set on the room's live meeting, if it runs. */
  meeting?: readonly Attribute[];
  logger?: Logger;
}

/**
 * The attributes in force for a call to `did` (and `room`, once known),
 * read from the store now. The SIP layer may call it before answering
 * (`call_delay`, `dnis_welcomeprompt` are DID group/DID attributes).
 */
export function resolveAttributes(input: ResolveAttributesInput): ResolvedAttributes {
  const group = input.store.getDidGroup(input.did.didGroupId);
  return new ResolvedAttributes(
    {
      callFlowId: group?.callFlowId ?? 3,
      didGroup: group?.attributes ?? [],
      did: input.did.attributes,
      ...(input.room ? { meetingRoom: input.room.attributes } : {}),
      ...(input.meeting ? { meeting: input.meeting } : {}),
    },
    input.logger,
  );
}

export interface ResolveMeetingAttributesInput {
  store: Pick<ConferenceStore, 'getDidGroup'>;
  room: MeetingRoom;
  /** Values set on the room's live meeting, if it runs. */
  meeting?: readonly Attribute[];
  logger?: Logger;
}

/**
 * The attributes of the room's meeting as a whole, the same whoever joins
 * and however they dialed in: the call flow of the room's primary DID
 * group, that group, the room, the live meeting; never a DID's values.
 * Meeting-wide rules (start and stop, limits, entry/exit tones) read
 * these, so they cannot depend on which DID the first caller dialed; the
 * invited callees, who dialed nothing, get their keypad and language here.
 */
export function resolveMeetingAttributes(input: ResolveMeetingAttributesInput): ResolvedAttributes {
  const group = input.store.getDidGroup(input.room.primaryDidGroupId);
  return new ResolvedAttributes(
    {
      callFlowId: group?.callFlowId ?? 3,
      didGroup: group?.attributes ?? [],
      meetingRoom: input.room.attributes,
      ...(input.meeting ? { meeting: input.meeting } : {}),
    },
    input.logger,
  );
}
