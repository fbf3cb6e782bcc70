/**
 * The call-flow attributes of seed 004 ("Meeting Attributes"): name, type
 * (0 string, 2 integer), the levels where each may be set (`group` bits:
 * 1 call flow and DID group, 2 DID, 4 meeting room; a live meeting follows
 * its room) and its description. Generated from the seed's attribute list,
 * followed by the room settings of seeds 001 and 003 that 004 lacks, under
 * their own names.
 */
export interface AttributeTemplate {
  name: string;
  type: 0 | 2;
  group: number;
  description: string;
}

/** The `group` bits of seed 004: where an attribute may be set. */
export const ATTRIBUTE_LEVEL = { didGroup: 1, did: 2, meetingRoom: 4 } as const;

/**
 * How a value is read: `roles` is an access-level string such as "hpl"
 * (host, participant, listener), `onoff` is on/off, `choice` one of a few
 * words, `dtmf` a key sequence, `limits` 004's per-role "h:p:l" counts.
 */
export type AttributeKind = 'text' | 'integer' | 'onoff' | 'roles' | 'choice' | 'dtmf' | 'limits';

/** The words a `choice` attribute accepts, lower case. */
export const ATTRIBUTE_CHOICES: Readonly<Record<string, readonly string[]>> = {
  conference_start_how: ['first', 'moderator', 'explicit'],
  conference_stop_how: ['last', 'moderator'],
  conference_recording: ['on', 'off', 'auto'],
  recording_stop_how: ['last', 'moderator'],
  recording_method: ['remote', 'remote+pin', 'local', 'local+pin'],
  recording_metadata: ['contact', 'custom'],
};

const ROLE_ATTRIBUTES = new Set(['call_announceparticipantcount', 'conference_hold_policy', 'conference_mute_policy', 'conference_qa_policy', 'conference_video_policy']);

/** The kind of a catalogued attribute (see AttributeKind). */
export function attributeKind(template: AttributeTemplate): AttributeKind {
  const { name } = template;
  if (template.type === 2) return 'integer';
  if (name.endsWith('_dtmf_binding')) return 'dtmf';
  if (name.endsWith('_dtmf') || ROLE_ATTRIBUTES.has(name)) return 'roles';
  if (ATTRIBUTE_CHOICES[name]) return 'choice';
  if (name === 'conference_maxcallsperrole') return 'limits';
  if (/\bon and off\b|\bon or off\b/.test(template.description)) return 'onoff';
  return 'text';
}

export const ATTRIBUTE_TEMPLATES: readonly AttributeTemplate[] = [
  { name: "call_announceparticipantcount", type: 0, group: 5, description: "Determines for which access levels the number of participants will be announced upon entering the meeting room. Enter the access levels as a string." },
  { name: "call_associate_dtmf", type: 0, group: 5, description: "Determines which access levels will be able to associate calls." },
  { name: "call_associate_dtmf_binding", type: 0, group: 1, description: "The DTMF sequence to associate audio." },
  { name: "call_delay", type: 2, group: 3, description: "The number of seconds to delay before the call is answered." },
  { name: "call_exit_dtmf", type: 0, group: 5, description: "Determines which access levels will be able to enter the DTMF sequence to leave a call. The DTMF sequence is set as call_exit_dtmf_binding." },
  { name: "call_exit_dtmf_binding", type: 0, group: 1, description: "Determines the DTMF sequence that will trigger exiting a call when call_exit_dtmf is enabled." },
  { name: "call_instructions_dtmf", type: 0, group: 5, description: "Determines which access levels will be able to enter the DTMF sequence to access the help playback. Enter the access levels as a string for the field value. The DTMF sequence is set as call_instructions_dtmf_binding." },
  { name: "call_instructions_dtmf_binding", type: 0, group: 1, description: "The DTMF sequence that will trigger the help playback for the access levels designated in call_instructions_dtmf." },
  { name: "call_jobcodeonenter", type: 0, group: 5, description: "Determines whether or not the caller will be prompted for a job code prior to entering the meeting. Values accepted in this field are on and off." },
  { name: "call_maxduration", type: 2, group: 5, description: "The maximum duration of the call." },
  { name: "call_mute_dtmf", type: 0, group: 5, description: "Determines which access levels can mute themselves. Enter the access levels as a string for the field value." },
  { name: "call_mute_dtmf_binding", type: 0, group: 1, description: "The DTMF sequence that triggers self muting." },
  { name: "call_operator_after", type: 2, group: 1, description: "Determines how many times an unsuccessful attempt can be made to enter the access code. Enter -1 to allow unlimited amounts of unsuccessful attempts." },
  { name: "call_operator_dtmf", type: 0, group: 5, description: "Determines which access levels can call the operator. Enter the access levels as a string for the field value." },
  { name: "call_operator_dtmf_binding", type: 0, group: 1, description: "The DTMF sequence that triggers a call to the operator." },
  { name: "call_participantsnumber_dtmf", type: 0, group: 5, description: "Determines which access levels can enter the DTMF sequence to hear the number of participants currently in the conference. Enter the access levels as a string for the field value." },
  { name: "call_participantsnumber_dtmf_binding", type: 0, group: 1, description: "The DTMF sequence that triggers stating the number of participants in the conference." },
  { name: "conference_appspecific", type: 0, group: 5, description: "Application-specific data." },
  { name: "conference_callerdb", type: 0, group: 5, description: "The callers database. Values accepted in this field are on and off." },
  { name: "conference_country", type: 0, group: 5, description: "The conference country." },
  { name: "conference_distributed", type: 0, group: 5, description: "Determines whether or not distributed conferencing is enabled. Values accepted in this field are on and off." },
  { name: "conference_entryexittones_dtmf", type: 0, group: 5, description: "Determines which access levels can change the entry and exit tone by entering a DMTF sequence. Entering the DTMF sequence will alternate through the following combinations: ON:ON, ON:OFF, OFF:ON, and OFF:OFF." },
  { name: "conference_entryexittones_dtmf_binding", type: 0, group: 1, description: "The DTMF sequence that triggers the change between the tone combinations outlined in conference_entryexittones_dtmf." },
  { name: "conference_entrytones", type: 0, group: 5, description: "Determines whether or not a noise will be played when a new participant joins the conference. Values accepted in this field are on and off." },
  { name: "conference_exittones", type: 0, group: 5, description: "Determines whether or not a noise will be played when a new participant exits the conference. Values accepted in this field are on and off." },
  { name: "conference_hold_dtmf", type: 0, group: 5, description: "Determines which access levels will be able to put a conference on hold." },
  { name: "conference_hold_dtmf_binding", type: 0, group: 1, description: "The DTMF sequence that will trigger putting a conference on hold." },
  { name: "conference_hold_policy", type: 0, group: 5, description: "Determines which access levels will be on hold at the beginning of the conference. Enter the access levels as a string for the field value." },
  { name: "conference_jobcode_dtmf", type: 0, group: 5, description: "Allows participants to enter the * key during a conference followed by a job code. Enter the access levels as a string for the field value." },
  { name: "conference_jobcode_dtmf_binding", type: 0, group: 1, description: "The DTMF sequence to trigger entering a job code." },
  { name: "conference_language", type: 0, group: 5, description: "Determines the language of the meeting. The default value is EN. Refer to the table below for all of the currently supported languages." },
  { name: "conference_lock_dtmf", type: 0, group: 5, description: "Determines which access levels can lock a conference, meaning that no more participants can join. Note that hosts are still able to join even if lock is enabled. Enter the access levels as a string for the field value." },
  { name: "conference_lock_dtmf_binding", type: 0, group: 1, description: "The DTMF sequence that triggers locking a conference." },
  { name: "conference_maxcalls", type: 2, group: 5, description: "The maximum number of calls per conference." },
  { name: "conference_maxcallsperrole", type: 0, group: 5, description: "The maximum number of calls per role per conference. The following denotes that there can be an unlimited amount of calls from each role: -1:-1:-1." },
  { name: "conference_maxduration", type: 2, group: 5, description: "The maximum duration of the conference. To enable the conference to endure indefinitely, assign the value -1." },
  { name: "conference_mute_dtmf", type: 0, group: 5, description: "Determines which access levels are able to mute other participants. Enter the access levels as a string for the field value." },
  { name: "conference_mute_dtmf_binding", type: 0, group: 1, description: "The DTMF sequence to trigger muting other participants." },
  { name: "conference_mute_policy", type: 0, group: 5, description: "Defines which roles will be muted at the beginning of the conference. Enter the access levels as a string for the field value." },
  { name: "conference_qa_dtmf", type: 0, group: 5, description: "Determines which access levels can start a Q&A session. Enter the access levels as a string for the field value." },
  { name: "conference_qa_dtmf_binding", type: 0, group: 1, description: "The DTMF sequence to trigger starting a Q&A session." },
  { name: "conference_qa_policy", type: 0, group: 5, description: "Determines which access levels will be muted when a Q&A session is started. Enter the access levels as a string for the field value." },
  { name: "conference_realtime", type: 0, group: 5, description: "Defines whether or not the conference generates real time notifications, which allows viewing attendee lists and controlling the conference from a computer. Values accepted in this field are on and off." },
  { name: "conference_recording", type: 0, group: 5, description: "Defines whether or not a recording will begin once the meeting starts. Values accepted in this field are on, off, and auto. auto means that the recording will begin as soon as the conference begins." },
  { name: "conference_rollcall", type: 0, group: 5, description: "Determines whether or not participants will be prompted to record their names upon entering the conference. Values accepted in this field are on and off." },
  { name: "conference_rollcall_onenter", type: 0, group: 5, description: "Determines whether or not the recordings of participants saying their names will be played upon entering the conference. Values accepted in this field are on and off." },
  { name: "conference_rollcall_onexit", type: 0, group: 5, description: "Determines whether or not recordings of the participants saying their names will be played upon exiting the conference. Values accepted in this field are on and off." },
  { name: "conference_schedule", type: 0, group: 5, description: "The conference schedule." },
  { name: "conference_schedule_extend", type: 0, group: 1, description: "The conference schedule extended maximum time in seconds." },
  { name: "conference_schedule_extend_dtmf", type: 0, group: 5, description: "Defines the access levels that will be able to extend a conference schedule." },
  { name: "conference_schedule_extend_dtmf_binding", type: 0, group: 1, description: "The DMTF sequence that will trigger extending the conference schedule." },
  { name: "conference_schedule_hold", type: 2, group: 5, description: "The amount of time in seconds to wait before the scheduled conference begins." },
  { name: "conference_schedule_remind", type: 2, group: 5, description: "The amount of time in seconds to wait before the scheduled conference reminder." },
  { name: "conference_scheduled", type: 0, group: 5, description: "Defines whether or not a conference is scheduled. Values accepted in this field are on and off." },
  { name: "conference_start_how", type: 0, group: 5, description: "Determines when the conference will begin. Values accepted in this field are first, moderator, and explicit." },
  { name: "conference_start_wait", type: 2, group: 5, description: "The number of seconds to wait before starting a meeting when a moderator has not entered the meeting." },
  { name: "conference_stop_how", type: 0, group: 5, description: "Determines whether the meeting will end when the moderator exits, or when the last participant exits. Values accepted in this field are last and moderator." },
  { name: "conference_stop_wait", type: 2, group: 5, description: "The number of seconds to wait before stopping the conference after the host disconnects." },
  { name: "conference_video_policy", type: 0, group: 5, description: "Determines which access levels will have video enabled at the beginning of a conference. Enter the access levels as a string for the field value." },
  { name: "conference_whitelist", type: 0, group: 5, description: "Defines whether or not the conference has a white list. Values accepted in this field are on and off." },
  { name: "dnis_welcomeprompt", type: 0, group: 3, description: "The URL to a recorded greeting." },
  { name: "polling_dtmf", type: 0, group: 5, description: "Determines which access levels can start a polling vote." },
  { name: "polling_dtmf_binding", type: 0, group: 1, description: "The DTMF sequence to trigger starting a polling vote." },
  { name: "recording_addr", type: 0, group: 1, description: "The recording server address." },
  { name: "recording_dtmf", type: 0, group: 5, description: "Determines which access levels are able to start a recording. Enter the access levels as a string for the field value." },
  { name: "recording_dtmf_binding", type: 0, group: 1, description: "Defines the DTMF sequence that triggers starting a recording of the meeting." },
  { name: "recording_metadata", type: 0, group: 1, description: "Defines the recording metadata passing method. Values accepted in this field are contact and custom." },
  { name: "recording_method", type: 0, group: 1, description: "Determines the recording method. Values accepted in this field are: remote, remote+pin, local, and local+pin." },
  { name: "recording_stop_how", type: 0, group: 5, description: "Determines the recording method. Values accepted in this field are: last and moderator." },
  { name: "recording_stop_wait", type: 2, group: 5, description: "Defines the amount of seconds to wait before stopping recording after the moderator has left the conference." },
  // Seed 001's conference settings and seed 003's member and moderator settings, set like 004's room attributes.
  { name: "pin", type: 0, group: 5, description: "(001) PIN asked after the access code; a caller who cannot give it does not enter." },
  { name: "moderator_pin", type: 0, group: 5, description: "(001) PIN that makes the caller a host; only together with pin." },
  { name: "max_members", type: 2, group: 5, description: "(001) Maximum number of participants in the conference; -1 or unset for no limit." },
  { name: "mute_non_moderator", type: 0, group: 5, description: "(001) Everyone but hosts joins muted and only hosts may use *1; on or off." },
  { name: "music_on_hold_sound", type: 0, group: 5, description: "(001) Music a caller hears while alone in the conference: on (the configured music), off, or the name of a file in the music-on-hold directory." },
  { name: "record_enabled", type: 0, group: 5, description: "(001) Whether the conference may be recorded when conference_recording is not set; on or off (true/false)." },
  { name: "announce_caller_name", type: 0, group: 5, description: "(001) Record the caller's name and announce it to the others; on or off." },
  { name: "member_join_muted", type: 0, group: 5, description: "(003) Participants and listeners join muted; on or off." },
  { name: "member_join_deaf", type: 0, group: 5, description: "(003) Participants and listeners join unable to hear the others; on or off." },
  { name: "moderator_join_muted", type: 0, group: 5, description: "(003) Hosts join muted; on or off." },
  { name: "moderator_join_deaf", type: 0, group: 5, description: "(003) Hosts join unable to hear the others; on or off." },
];

export const ATTRIBUTE_NAMES: ReadonlySet<string> = new Set(ATTRIBUTE_TEMPLATES.map((t) => t.name));


const BY_NAME = new Map(ATTRIBUTE_TEMPLATES.map((t) => [t.name, t]));

export function findAttributeTemplate(name: string): AttributeTemplate | undefined {
  return BY_NAME.get(name);
}
