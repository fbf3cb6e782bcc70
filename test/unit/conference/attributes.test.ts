/**
 * Attribute inheritance (call flow → DID group → DID → meeting room → live
 * meeting) with seed 004's allowed levels, typed reading, and resolution
 * from a real SQLite store read per call.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ATTRIBUTE_NAMES, ATTRIBUTE_TEMPLATES, attributeKind, findAttributeTemplate } from '../../../src/conference/attributes/attributeCatalog.js';
import { CALL_FLOWS, callFlowById } from '../../../src/conference/attributes/callFlows.js';
import { ResolvedAttributes, resolveAttributes } from '../../../src/conference/attributes/ResolvedAttributes.js';
import { ATTRIBUTE_NAMES as API_NAMES } from '../../../src/api/attributeCatalog.js';
import { pino, type Logger } from 'pino';
import { SqliteStore } from '../../../src/store/SqliteStore.js';

const a = (name: string, value: string) => ({ name, value });

/** A logger whose warnings the test can read. */
function recordingLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

describe('attribute catalogue', () => {
  it('lives in the conference layer and the API re-exports the same set', () => {
    expect(API_NAMES).toBe(ATTRIBUTE_NAMES);
    expect(ATTRIBUTE_TEMPLATES.length).toBe(ATTRIBUTE_NAMES.size);
  });

  it('knows the kind of every attribute the call flow reads', () => {
    const kind = (name: string) => attributeKind(findAttributeTemplate(name)!);
    expect(kind('call_delay')).toBe('integer');
    expect(kind('conference_maxduration')).toBe('integer');
    expect(kind('call_announceparticipantcount')).toBe('roles');
    expect(kind('conference_mute_policy')).toBe('roles');
    expect(kind('conference_hold_policy')).toBe('roles');
    expect(kind('call_mute_dtmf')).toBe('roles');
    expect(kind('call_mute_dtmf_binding')).toBe('dtmf');
    expect(kind('conference_start_how')).toBe('choice');
    expect(kind('conference_stop_how')).toBe('choice');
    expect(kind('conference_entrytones')).toBe('onoff');
    expect(kind('call_jobcodeonenter')).toBe('onoff');
    expect(kind('mute_non_moderator')).toBe('onoff');
    expect(kind('member_join_muted')).toBe('onoff');
    expect(kind('conference_maxcallsperrole')).toBe('limits');
    expect(kind('dnis_welcomeprompt')).toBe('text');
    expect(kind('pin')).toBe('text');
    expect(kind('max_members')).toBe('integer');
  });

  it('has the two call flows of seed 004, CONF being the fallback', () => {
    expect(CALL_FLOWS.map((f) => [f.id, f.name])).toEqual([
      [1, 'SPECTEL'],
      [3, 'CONF'],
    ]);
    expect(callFlowById(99).name).toBe('CONF');
    for (const flow of CALL_FLOWS) for (const name of Object.keys(flow.defaults)) expect(ATTRIBUTE_NAMES.has(name), name).toBe(true);
  });
});

describe('ResolvedAttributes', () => {
  it('takes the call flow template value when no level sets one', () => {
    const conf = new ResolvedAttributes({ callFlowId: 3 });
    expect(conf.choice('conference_start_how', 'first')).toBe('first');
    expect(conf.levelOf('conference_start_how')).toBe('callFlow');
    expect(conf.isOn('conference_entrytones')).toBe(false);
    const spectel = new ResolvedAttributes({ callFlowId: 1 });
    expect(spectel.isOn('conference_entrytones')).toBe(true);
    expect([...spectel.roles('call_announceparticipantcount')]).toEqual(['host']);
  });

  it('lets each level override the one below: DID group, DID, meeting room, live meeting', () => {
    const attrs = new ResolvedAttributes({
      callFlowId: 3,
      didGroup: [a('conference_maxcalls', '10'), a('call_delay', '2'), a('conference_language', 'FR')],
      did: [a('call_delay', '4')],
      meetingRoom: [a('conference_maxcalls', '5'), a('conference_language', 'ES')],
      meeting: [a('conference_maxcalls', '3')],
    });
    expect(attrs.integer('call_delay', 0)).toBe(4);
    expect(attrs.levelOf('call_delay')).toBe('did');
    expect(attrs.text('conference_language')).toBe('ES');
    expect(attrs.levelOf('conference_language')).toBe('meetingRoom');
    expect(attrs.integer('conference_maxcalls', -1)).toBe(3);
    expect(attrs.levelOf('conference_maxcalls')).toBe('meeting');
  });

  it('ignores, with a log line, a value set on a level its group does not allow', () => {
    const { logger, lines } = recordingLogger();
    const attrs = new ResolvedAttributes(
      {
        callFlowId: 3,
        didGroup: [a('call_delay', '2'), a('call_operator_after', '2')],
        // call_delay is DID group and DID only (group 3); call_operator_after DID group only (group 1).
        meetingRoom: [a('call_delay', '9'), a('call_operator_after', '7')],
        // conference_maxcalls is DID group and room (group 5), never DID.
        did: [a('conference_maxcalls', '1'), a('call_operator_after', '8')],
      },
      logger,
    );
    expect(attrs.integer('call_delay', 0)).toBe(2);
    expect(attrs.integer('call_operator_after', 3)).toBe(2);
    expect(attrs.integer('conference_maxcalls', -1)).toBe(-1);
    const ignored = lines.filter((l) => String(l.msg).startsWith('attribute ignored')).map((l) => `${l.attribute}@${l.level}`);
    expect(ignored.sort()).toEqual(['call_delay@meetingRoom', 'call_operator_after@did', 'call_operator_after@meetingRoom', 'conference_maxcalls@did']);
  });

  it('ignores unknown names and values its kind cannot read, keeping the inherited value', () => {
    const { logger, lines } = recordingLogger();
    const attrs = new ResolvedAttributes(
      {
        callFlowId: 3,
        didGroup: [a('conference_maxcalls', '8'), a('conference_start_how', 'moderator'), a('conference_mute_policy', 'p')],
        meetingRoom: [
          a('conference_maxcalls', 'ten'),
          a('conference_start_how', 'whenever'),
          a('conference_mute_policy', 'hpx'),
          a('conference_entrytones', 'maybe'),
          a('conference_maxcallsperrole', '1:x:3'),
          a('no_such_thing', 'on'),
        ],
      },
      logger,
    );
    expect(attrs.integer('conference_maxcalls', -1)).toBe(8);
    expect(attrs.choice('conference_start_how', 'first')).toBe('moderator');
    expect([...attrs.roles('conference_mute_policy')]).toEqual(['participant']);
    expect(attrs.isOn('conference_entrytones')).toBe(false);
    expect(attrs.roleLimits('conference_maxcallsperrole')).toEqual({ host: -1, participant: -1, listener: -1 });
    expect(attrs.get('no_such_thing')).toBeUndefined();
    expect(lines.filter((l) => String(l.msg).startsWith('attribute ignored'))).toHaveLength(6);
  });

  it('reads role strings, on/off words, choices and per-role limits', () => {
    const attrs = new ResolvedAttributes({
      callFlowId: 3,
      meetingRoom: [
        a('conference_mute_policy', 'PL'),
        a('call_announceparticipantcount', 'hpl'),
        a('conference_hold_policy', ''),
        a('conference_entrytones', 'ON'),
        a('mute_non_moderator', 'true'),
        a('conference_stop_how', 'Moderator'),
        a('conference_maxcallsperrole', '2:10:-1'),
      ],
    });
    expect(attrs.allows('conference_mute_policy', 'participant')).toBe(true);
    expect(attrs.allows('conference_mute_policy', 'listener')).toBe(true);
    expect(attrs.allows('conference_mute_policy', 'host')).toBe(false);
    expect(attrs.roles('call_announceparticipantcount').size).toBe(3);
    expect(attrs.roles('conference_hold_policy').size).toBe(0);
    expect(attrs.isOn('conference_entrytones')).toBe(true);
    expect(attrs.isOn('mute_non_moderator')).toBe(true);
    expect(attrs.choice('conference_stop_how', 'last')).toBe('moderator');
    expect(attrs.roleLimits('conference_maxcallsperrole')).toEqual({ host: 2, participant: 10, listener: -1 });
    expect(attrs.integer('call_maxduration', 0)).toBe(-1);
  });
});

describe('resolveAttributes from the store', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('reads the DID group, its call flow, the DID and the room now, so the next caller sees a change', () => {
    dir = mkdtempSync(join(tmpdir(), 'attrs-'));
    const store = SqliteStore.open(dir);
    try {
      const group = store.createDidGroup({ name: 'g', callFlowId: 1, attributes: [a('call_delay', '1')] });
      const did = store.addDid(group.id, '15550123', '', [a('dnis_welcomeprompt', 'welcome')]);
      const room = store.createMeetingRoom({ meetingNumber: 77, primaryDidGroupId: group.id, keychain: [{ accessCode: '1', role: 'host' }], attributes: [a('conference_language', 'IT')] });
      const first = resolveAttributes({ store, did });
      expect(first.integer('call_delay', 0)).toBe(1);
      expect(first.text('dnis_welcomeprompt')).toBe('welcome');
      expect(first.isOn('conference_entrytones')).toBe(true); // SPECTEL's template
      expect(first.text('conference_language')).toBe('EN');
      expect(resolveAttributes({ store, did, room }).text('conference_language')).toBe('IT');

      store.updateDidGroup(group.id, { callFlowId: 3, attributes: [a('call_delay', '3')] });
      const next = resolveAttributes({ store, did: store.findDid('15550123')! });
      expect(next.integer('call_delay', 0)).toBe(3);
      expect(next.isOn('conference_entrytones')).toBe(false);
    } finally {
      store.close();
    }
  });
});
