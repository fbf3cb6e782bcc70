/**
 * The help menu (`*4`) of OUR key layout, said with Debian's recordings:
 * Asterisk's conf-usermenu describes Asterisk's keys, so each entry is
 * built from a phrase ("to mute or unmute yourself"), "press" and the keys
 * ("star", "one"). A caller hears only the commands their role may use;
 * commands with no fitting recording (hold, Q&A, polling, operator, tones)
 * are left out rather than described wrongly.
 */
import type { Role } from '../conference/Role.js';
import { roleCanSpeak } from '../conference/Role.js';
import type { PromptName } from './AccessCodeFlow.js';
import type { KeypadBinding, KeypadCommand } from './KeypadCommands.js';
import { roleMayUse } from './KeypadCommands.js';

interface MenuEntry {
  phrase: PromptName[];
  /** The commands whose keys follow the phrase, joined by "and". */
  commands: KeypadCommand[];
}

const MENU: readonly MenuEntry[] = [
  { phrase: ['confbridge-mute-in'], commands: ['selfMuteToggle'] },
  { phrase: ['for', 'conf-otherinparty'], commands: ['participantCount'] },
  { phrase: ['to-call-this-number'], commands: ['invite'] },
  { phrase: ['for', 'conf-now-muted'], commands: ['muteAllButHosts'] },
  { phrase: ['for', 'conf-now-unmuted'], commands: ['unmuteAllButHosts'] },
  { phrase: ['confbridge-lock-in'], commands: ['lock', 'unlock'] },
  { phrase: ['for', 'conf-now-recording'], commands: ['recordingToggle'] },
  { phrase: ['for', 'conf-extended'], commands: ['scheduleExtend'] },
  { phrase: ['confbridge-leave-in'], commands: ['exit'] },
];

const KEY_PROMPTS: Readonly<Record<string, PromptName>> = { '*': 'digits/star', '#': 'digits/pound' };

/** The prompts that say a key sequence: `*91` is "star nine one". */
export function sayKeys(sequence: string): PromptName[] {
  return [...sequence].map((key) => KEY_PROMPTS[key] ?? `digits/${key}`);
}

/** The help menu for this role over these bindings. */
export function helpMenuPrompts(bindings: readonly KeypadBinding[], role: Role): PromptName[] {
  const out: PromptName[] = [];
  for (const entry of MENU) {
    const usable = entry.commands
      .map((command) => bindings.find((b) => b.command === command))
      .filter((b): b is KeypadBinding => b !== undefined && roleMayUse(b, role))
      // A listener is never heard: muting oneself means nothing to them.
      .filter((b) => b.command !== 'selfMuteToggle' || roleCanSpeak(role));
    if (usable.length === 0) continue;
    out.push(...entry.phrase, 'vm-press', ...usable.flatMap((b, i) => [...(i > 0 ? ['vm-and'] : []), ...sayKeys(b.sequence)]));
  }
  return out;
}
