/**
 * Callback URLs may not reach internal addresses unless the operator
 * allowed them. This server allows none (the other tests' servers allow
 * 127.0.0.1 for their receivers): a literal internal address is refused at
 * PUT time with 422 naming the field, however it is written; a name is
 * stored, resolved when a real call's events are sent, and, resolving to
 * an internal address, its posts are logged and dropped: the receiver
 * listening there gets nothing, /metrics counts the refusals.
 */
import { createServer, type Server } from 'node:http';
import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallbackUrlPolicy } from '../../src/events/CallbackUrlPolicy.js';
import { apiHarness } from '../support/apiHarness.js';
import { parseMetrics } from '../support/prometheus.js';
import { RtpSink } from '../support/rtpSink.js';
import { runCaller } from '../support/sipp.js';
import { sleep, waitFor } from '../support/wait.js';

const PORTS = { sip: 21040, http: 21220, rtpMin: 21700, rtpMax: 21749 };
const RECEIVER_PORT = 21230;
const h = apiHarness({ ports: PORTS, adminPassword: 'webhook-safety-password', tweak: (config) => (config.webhooks.allowedNetworks = []) });

let receiver: Server;
let received = 0;

beforeAll(async () => {
  // Listens on every address, so a post would arrive whichever internal address the name gives.
  receiver = createServer((req, res) => {
    received++;
    req.resume();
    res.end();
  });
  await new Promise<void>((resolve) => receiver.listen(RECEIVER_PORT, resolve));
});

afterAll(async () => {
  await new Promise<void>((resolve) => receiver?.close(() => resolve()));
});

describe('webhook callback address safety', () => {
  it('refuses literal internal addresses at PUT time with 422 naming the field, and changes nothing', async () => {
    const me = (await h.api('GET', '/conference/v1/subscribers/whoami')).json;
    const cases: Array<[unknown, string, RegExp]> = [
      [{ callback: { url: `http://127.0.0.1:${RECEIVER_PORT}/x` } }, 'callback.url', /loopback/],
      [{ callback: { url: 'http://2130706433/x' } }, 'callback.url', /loopback/],
      [{ callback: { url: 'http://[::1]/x' } }, 'callback.url', /loopback/],
      [{ callback: { url: 'https://localhost/x' } }, 'callback.url', /loopback/],
      [{ eventCallbackUrl: 'http://169.254.169.254/latest/meta-data/' }, 'eventCallbackUrl', /link-local/],
      [{ eventCallbackUrl: 'http://10.0.0.8/hook' }, 'eventCallbackUrl', /private/],
      [{ callback: { url: 'http://[::ffff:192.168.1.1]/x' } }, 'callback.url', /private/],
    ];
    for (const [body, field, reason] of cases) {
      const answer = await h.api('PUT', `/conference/v1/subscribers/${me.sid}`, { body });
      expect(answer.status, JSON.stringify(body)).toBe(422);
      const error = answer.json.errors.find((e: { field: string }) => e.field === field);
      expect(error?.message, answer.text).toMatch(reason);
    }
    // Creating a subscriber with one is refused as well, and creates nobody.
    const created = await h.api('POST', '/conference/v1/subscribers', { body: { login: 'ivan', password: 'ivan-password', role: 3, eventCallbackUrl: 'http://192.168.0.10/' } });
    expect(created.status).toBe(422);
    expect(created.json.errors[0].field).toBe('eventCallbackUrl');
    expect((await h.api('GET', `/conference/v1/subscribers?filter=${encodeURIComponent('login eq ivan')}`)).json.subscribers).toEqual([]);
    expect((await h.api('GET', `/conference/v1/subscribers/${me.sid}`)).json.callback).toBeUndefined();
  });

  it('stores a name, then drops the posts of a real call when the name resolves to an internal address', async () => {
    const name = hostname();
    const addresses = await lookup(name, { all: true });
    // The premise: this machine's name resolves to an internal address (loopback here, a private one in containers).
    const policy = new CallbackUrlPolicy();
    expect(addresses.length).toBeGreaterThan(0);
    expect(addresses.every((a) => policy.refusalOf(a.address) !== undefined), JSON.stringify(addresses)).toBe(true);

    const me = (await h.api('GET', '/conference/v1/subscribers/whoami')).json;
    const url = `http://${name}:${RECEIVER_PORT}/hook`;
    const set = await h.api('PUT', `/conference/v1/subscribers/${me.sid}`, { body: { callback: { url, secret: 'a-secret-of-enough-length' } } });
    expect(set.status, set.text).toBe(200);
    const sink = await RtpSink.open(21780);
    const run = runCaller(
      {
        dialed: '15550100',
        rtpPort: sink.port,
        steps: [{ kind: 'pause', ms: 500 }, { kind: 'pcap', path: h.media.digits('rita', '2222#') }, { kind: 'pause', ms: 1500 }, { kind: 'bye' }],
      },
      { serverPort: PORTS.sip, sipPort: 21041, mediaPort: 21760, timeoutSeconds: 60 },
    );
    try {
      const result = await run.done;
      expect(result.code, result.errors + result.output.slice(-2000)).toBe(0);
      // meeting-start, add-member, del-member, meeting-end: each refused and dropped, none retried.
      const metrics = async () => parseMetrics((await h.api('GET', '/metrics')).text);
      let m = await metrics();
      for (let i = 0; i < 100 && (m.get('bridge_webhooks_refused_total') ?? 0) < 4; i++) {
        await sleep(50);
        m = await metrics();
      }
      expect(m.get('bridge_webhooks_refused_total')).toBe(4);
      expect(m.get('bridge_webhooks_delivered_total')).toBe(0);
      expect(m.get('bridge_webhooks_failed_attempts_total')).toBe(0);
      expect(m.get('bridge_webhooks_queued')).toBe(0);
      expect(received).toBe(0);
    } finally {
      run.process.kill();
      sink.close();
    }
    await waitFor(() => h.server.app.conferenceManager.meetings.length === 0, 5000, 'the meeting to end');
  });
});
