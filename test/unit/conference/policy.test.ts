import { describe, expect, it } from 'vitest';
import { membershipFor } from '../../../src/conference/MeetingPolicy.js';
import { normalizePhoneNumber } from '../../../src/conference/PhoneNumber.js';
import { parseRole, roleFromCode } from '../../../src/conference/Role.js';

describe('membershipFor', () => {
  it('lets hosts and participants speak and hear', () => {
    expect(membershipFor({ role: 'host', muted: false, deaf: false, phoneHold: false })).toEqual({ speak: true, hear: true });
    expect(membershipFor({ role: 'participant', muted: false, deaf: false, phoneHold: false })).toEqual({ speak: true, hear: true });
  });
  it('never lets a listener be heard, even unmuted', () => {
    expect(membershipFor({ role: 'listener', muted: false, deaf: false, phoneHold: false })).toEqual({ speak: false, hear: true });
  });
  it('a phone holding the bridge is never heard, but its mute state is untouched', () => {
    expect(membershipFor({ role: 'host', muted: false, deaf: false, phoneHold: true })).toEqual({ speak: false, hear: true });
  });
  it('mute removes speech, deaf removes hearing', () => {
    expect(membershipFor({ role: 'participant', muted: true, deaf: false, phoneHold: false })).toEqual({ speak: false, hear: true });
    expect(membershipFor({ role: 'host', muted: false, deaf: true, phoneHold: false })).toEqual({ speak: true, hear: false });
  });
});

describe('normalizePhoneNumber', () => {
  it('accepts E.164 with or without +, tel: URIs, separators and URI parameters', () => {
    for (const input of ['15550100', '+15550100', 'tel:+1-555-0100', '+1 (555) 0100', '15550100;npdi', '+15550100;phone-context=x']) {
      expect(normalizePhoneNumber(input)).toBe('15550100');
    }
  });
  it('refuses what is not a phone number', () => {
    for (const input of ['', '+', 'alice', '12', '1234567890123456', '15550100abc', "1' OR '1'='1"]) {
      expect(normalizePhoneNumber(input)).toBeUndefined();
    }
  });
});

describe('roles', () => {
  it('maps seed 004 role codes and names', () => {
    expect(roleFromCode(1)).toBe('host');
    expect(roleFromCode(2)).toBe('participant');
    expect(roleFromCode(3)).toBe('listener');
    expect(roleFromCode(4)).toBeUndefined();
    expect(parseRole('Host')).toBe('host');
    expect(parseRole('3')).toBe('listener');
    expect(parseRole('admin')).toBeUndefined();
  });
});
