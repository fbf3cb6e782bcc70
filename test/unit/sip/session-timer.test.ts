import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { intervalFromAnswer, negotiateAsAnswerer, refreshRequestHeaders, SessionTimer } from '../../../src/sip/SessionTimer.js';
import { callDelaySeconds } from '../../../src/app/callDelay.js';

const SETTINGS = { expiresSeconds: 1800, minSeconds: 90 };

describe('RFC 4028 negotiation as the answering side', () => {
  it('takes the interval and refresher the request asks for', () => {
    expect(negotiateAsAnswerer({ sessionExpires: '600;refresher=uac', minSE: undefined, supported: ['timer'] }, SETTINGS)).toEqual({
      kind: 'use',
      interval: { seconds: 600, refresher: 'peer' },
      responseHeaders: ['Session-Expires: 600;refresher=uac', 'Require: timer'],
    });
    expect(negotiateAsAnswerer({ sessionExpires: '600 ; refresher=UAS', minSE: undefined, supported: ['100rel, timer'] }, SETTINGS)).toEqual({
      kind: 'use',
      interval: { seconds: 600, refresher: 'us' },
      responseHeaders: ['Session-Expires: 600;refresher=uas'],
    });
  });

  it('without a refresher choice: the peer refreshes when it supports timers, else we do', () => {
    const supported = negotiateAsAnswerer({ sessionExpires: '300', minSE: undefined, supported: ['timer'] }, SETTINGS);
    expect(supported.kind === 'use' && supported.interval).toEqual({ seconds: 300, refresher: 'peer' });
    const unsupported = negotiateAsAnswerer({ sessionExpires: undefined, minSE: undefined, supported: [] }, SETTINGS);
    expect(unsupported).toEqual({ kind: 'use', interval: { seconds: 1800, refresher: 'us' }, responseHeaders: ['Session-Expires: 1800;refresher=uas'] });
  });

  it('422 below our minimum; a Min-SE above our default raises the interval; malformed values are named', () => {
    expect(negotiateAsAnswerer({ sessionExpires: '89', minSE: undefined, supported: ['timer'] }, SETTINGS)).toEqual({ kind: 'too-small', minSeconds: 90 });
    const raised = negotiateAsAnswerer({ sessionExpires: undefined, minSE: '3600', supported: ['timer'] }, SETTINGS);
    expect(raised.kind === 'use' && raised.interval.seconds).toBe(3600);
    expect(negotiateAsAnswerer({ sessionExpires: 'x', minSE: undefined, supported: [] }, SETTINGS)).toEqual({ kind: 'malformed', reason: 'Bad Session-Expires' });
    expect(negotiateAsAnswerer({ sessionExpires: undefined, minSE: '-1', supported: [] }, SETTINGS)).toEqual({ kind: 'malformed', reason: 'Bad Min-SE' });
  });

  it('reads the answer to our own refresh (refresher=uac is us, the requester)', () => {
    const asked = { seconds: 600, refresher: 'us' as const };
    expect(intervalFromAnswer('900;refresher=uac', asked)).toEqual({ seconds: 900, refresher: 'us' });
    expect(intervalFromAnswer('900;refresher=uas', asked)).toEqual({ seconds: 900, refresher: 'peer' });
    expect(intervalFromAnswer(undefined, asked)).toBe(asked);
    expect(refreshRequestHeaders(asked, 90)).toEqual(['Session-Expires: 600;refresher=uac', 'Min-SE: 90', 'Supported: timer']);
  });
});

describe('SessionTimer', () => {
  it('asks for a refresh at half the interval when we refresh, declares expiry before the end when the peer does', async () => {
    const events: string[] = [];
    const timer = new SessionTimer({ refreshDue: () => events.push('refresh'), expired: () => events.push('expired') }, silentLogger());
    timer.start({ seconds: 0.2, refresher: 'us' });
    await new Promise((r) => setTimeout(r, 150));
    expect(events).toEqual(['refresh']);
    timer.start({ seconds: 0.3, refresher: 'peer' });
    await new Promise((r) => setTimeout(r, 300));
    expect(events).toEqual(['refresh', 'expired']);
    timer.start({ seconds: 0.1, refresher: 'peer' });
    timer.stop();
    await new Promise((r) => setTimeout(r, 150));
    expect(events).toEqual(['refresh', 'expired']);
  });
});

describe('call_delay (seed 004)', () => {
  const did = (value?: string) => ({ id: 1, didGroupId: 7, phoneNumber: '15550100', description: '', attributes: value === undefined ? [] : [{ name: 'call_delay', value }] });
  const store = (value?: string) => ({
    getDidGroup: (id: number) => (id === 7 ? { id, name: 'g', description: '', callFlowId: 3, attributes: value === undefined ? [] : [{ name: 'call_delay', value }] } : undefined),
  });

  it('reads the DID first, then its DID group; 0 when unset or not a whole number; capped', () => {
    expect(callDelaySeconds(did('3'), store('9'))).toBe(3);
    expect(callDelaySeconds(did(), store('9'))).toBe(9);
    expect(callDelaySeconds(did(), store())).toBe(0);
    expect(callDelaySeconds(did('-2'), store())).toBe(0);
    expect(callDelaySeconds(did('2.5'), store())).toBe(0);
    expect(callDelaySeconds(did('100000'), store())).toBe(60);
  });
});
