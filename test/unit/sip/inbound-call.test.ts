/**
 * InboundCall against fake SIP.js objects, for what needs timers too long
 * for socket tests (no ACK within 32 s) and for listener failures.
 */
import { describe, expect, it, vi } from 'vitest';
import type { IncomingInviteRequest, SessionDelegate } from 'sip.js/lib/core/index.js';
import { silentLogger } from '../../../src/log.js';
import { InboundCall, parseInfoDtmf } from '../../../src/sip/InboundCall.js';
import type { CallEndReason, InboundCallInfo } from '../../../src/sip/SipTypes.js';

function fakes() {
  const session = {
    delegate: undefined as SessionDelegate | undefined,
    bye: vi.fn((_d: unknown, _o: { extraHeaders: string[] }) => ({})),
  };
  const uas = {
    message: {},
    delegate: undefined as { onCancel?: () => void } | undefined,
    trying: vi.fn(),
    accept: vi.fn(() => ({ message: '', session })),
    reject: vi.fn(() => ({ message: '' })),
  };
  const info: InboundCallInfo = {
    callId: 'c1', from: { uri: 'sip:a@h', user: 'a', displayName: '' }, to: { uri: 'sip:b@h', user: 'b', displayName: '' },
    dialed: 'b', transport: 'udp', sourceAddress: '127.0.0.1', sourcePort: 5060, offerSdp: 'v=0\r\n',
  };
  const onEnded = vi.fn();
  const call = new InboundCall(uas as unknown as IncomingInviteRequest, info, {
    logger: silentLogger(), contactHeader: 'Contact: <sip:bridge@127.0.0.1>', onEnded,
  });
  const ended: CallEndReason[] = [];
  call.on('ended', (r) => ended.push(r));
  return { call, uas, session, ended, onEnded };
}

describe('InboundCall', () => {
  it('sends BYE and ends with timeout/no-ack when the ACK never comes', () => {
    const { call, session, ended, onEnded } = fakes();
    call.accept('v=0\r\n');
    expect(call.state).toBe('answered');
    session.delegate!.onAckTimeout!();
    expect(session.bye).toHaveBeenCalledTimes(1);
    expect(session.bye.mock.calls[0]![1].extraHeaders[0]).toMatch(/^Reason: Q\.850;cause=102/);
    expect(ended).toEqual([{ by: 'timeout', cause: 'no-ack' }]);
    expect(onEnded).toHaveBeenCalledTimes(1);
    expect(call.state).toBe('ended');
  });

  it('a hangup before the ACK defers the BYE to the ACK timeout when no ACK comes', () => {
    const { call, session, ended } = fakes();
    call.accept('v=0\r\n');
    call.hangup('done');
    expect(session.bye).not.toHaveBeenCalled();
    expect(ended).toEqual([{ by: 'local', cause: 'hangup' }]);
    session.delegate!.onAckTimeout!();
    expect(session.bye).toHaveBeenCalledTimes(1);
    expect(session.bye.mock.calls[0]![1].extraHeaders[0]).toBe('Reason: Q.850;cause=16;text="done"');
    expect(ended).toHaveLength(1);
  });

  it('emits ended once and survives a throwing listener', () => {
    const { call, uas, ended } = fakes();
    call.on('ended', () => {
      throw new Error('listener bug');
    });
    expect(() => uas.delegate!.onCancel!()).not.toThrow();
    expect(uas.reject).toHaveBeenCalledWith({ statusCode: 487 });
    call.hangup();
    call.reject(486);
    expect(ended).toEqual([{ by: 'remote', cause: 'cancel' }]);
  });

  it('refuses a non-final status in reject()', () => {
    const { call } = fakes();
    expect(() => call.reject(200)).toThrow(RangeError);
  });
});

describe('parseInfoDtmf', () => {
  it.each([
    ['application/dtmf-relay', 'Signal=5\r\nDuration=160\r\n', { digit: '5', durationMs: 160 }],
    ['application/dtmf-relay', 'Signal= *\nDuration= 100', { digit: '*', durationMs: 100 }],
    ['application/dtmf-relay', 'Signal=11\r\nDuration=80', { digit: '#', durationMs: 80 }],
    ['application/dtmf', '5', { digit: '5', durationMs: 250 }],
    ['application/dtmf', 'a\r\n', { digit: 'A', durationMs: 250 }],
  ])('%s %j', (type, body, expected) => {
    expect(parseInfoDtmf(type, body)).toEqual(expected);
  });

  it('ignores bodies without a digit', () => {
    expect(parseInfoDtmf('application/dtmf-relay', 'Duration=100')).toBeUndefined();
    expect(parseInfoDtmf('application/dtmf', 'x')).toBeUndefined();
    expect(parseInfoDtmf('text/plain', '5')).toBeUndefined();
  });
});
