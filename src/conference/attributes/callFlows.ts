/**
 * Seed 004's two call flows and the attribute values their templates give
 * (the bottom level of attribute inheritance). A DID group names its call
 * flow by id: 1 SPECTEL, 3 CONF. Values are 004's strings.
 *
 * The defaults keep a room quiet and open until it is configured otherwise:
 * the meeting starts with its first caller and ends with its last, nobody
 * is muted or held on entry, there are no limits, tones or announcements.
 * SPECTEL differs from CONF the way Spectel bridges did: callers hear entry
 * and exit tones, and the participant count is announced to hosts.
 */
export interface CallFlow {
  id: number;
  name: 'CONF' | 'SPECTEL';
  defaults: Readonly<Record<string, string>>;
}

const COMMON: Readonly<Record<string, string>> = {
  call_announceparticipantcount: '',
  call_jobcodeonenter: 'off',
  call_maxduration: '-1',
  call_operator_after: '',
  conference_entrytones: 'off',
  conference_exittones: 'off',
  conference_hold_policy: '',
  conference_language: 'EN',
  conference_maxcalls: '-1',
  conference_maxcallsperrole: '-1:-1:-1',
  conference_maxduration: '-1',
  conference_mute_policy: '',
  conference_start_how: 'first',
  conference_start_wait: '-1',
  conference_stop_how: 'last',
  conference_stop_wait: '0',
};

export const CALL_FLOWS: readonly CallFlow[] = [
  {
    id: 1,
    name: 'SPECTEL',
    defaults: { ...COMMON, call_announceparticipantcount: 'h', conference_entrytones: 'on', conference_exittones: 'on' },
  },
  { id: 3, name: 'CONF', defaults: COMMON },
];

/** The call flow of a DID group; CONF for an id no flow has (a group written before flows existed). */
export function callFlowById(id: number): CallFlow {
  return CALL_FLOWS.find((flow) => flow.id === id) ?? CALL_FLOWS.find((flow) => flow.name === 'CONF')!;
}
