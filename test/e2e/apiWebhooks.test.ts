/**
 * Webhooks end to end: a subscriber sets its callback through the API (seed
 * 004 `callback`), a real sipp caller joins and leaves meeting 1000, and a
 * local receiver gets the events as POSTs whose HMAC-SHA256 signature
 * checks out; the receiver answers 500 first, and the bridge retries before
 * going on, in order. Bad callback input is refused naming the field.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookSignature } from '../../src/events/WebhookDispatcher.js';
import { RtpSink } from '../support/rtpSink.js';
import { runCaller } from '../support/sipp.js';
import { apiHarness } from '../support/apiHarness.js';
import { waitFor } from '../support/wait.js';

const PORTS = { sip: 25820, http: 25920, rtpMin: 24600, rtpMax: 24749 };
const RECEIVER_PORT = 25950;
const ADMIN: [string, string] = ['admin', 'webhook-test-password'];
const h = apiHarness({ ports: PORTS, adminPassword: ADMIN[1] });
const SECRET = 'a-secret-of-enough-length';

interface Post {
  path: string;
  timestamp: string;
  signature: string;
  body: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
  status: number;
}

let receiver: Server;
const posts: Post[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      // The very first post fails: the bridge must retry it.
      const status = posts.length === 0 ? 500 : 200;
      posts.push({
        path: req.url ?? '',
        timestamp: String(req.headers['x-bridge-timestamp']),
        signature: String(req.headers['x-bridge-signature']),
        body,
        json: JSON.parse(body),
        status,
      });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(RECEIVER_PORT, '127.0.0.1', resolve));
});

afterAll(async () => {
  await new Promise<void>((resolve) => receiver?.close(() => resolve()));
});

describe('webhooks', () => {
  it('refuses bad callbacks naming the field and changes nothing', async () => {
    const me = (await h.api('GET', '/conference/v1/subscribers/whoami')).json;
    const put = (body: unknown) => h.api('PUT', `/conference/v1/subscribers/${me.sid}`, { body });
    const cases: Array<[unknown, string]> = [
      [{ callback: { url: 'ftp://127.0.0.1/x' } }, 'callback.url'],
      [{ callback: { url: 'not a url' } }, 'callback.url'],
      [{ callback: { url: 'http://user:pw@127.0.0.1/x' } }, 'callback.url'],
      [{ callback: { url: 'http://127.0.0.1/x', secret: 'short' } }, 'callback.secret'],
      [{ callback: { url: 'http://127.0.0.1/x', method: 'GET' } }, 'callback.method'],
      [{ callback: { url: 42 } }, 'callback.url'],
      [{ eventCallbackUrl: 'javascript:alert(1)' }, 'eventCallbackUrl'],
      [{ callback: { url: 'http://127.0.0.1/x' }, eventCallbackUrl: 'http://127.0.0.1/y' }, 'eventCallbackUrl'],
    ];
    for (const [body, field] of cases) {
      const answer = await put(body);
      expect(answer.status, JSON.stringify(body)).toBe(422);
      expect(answer.json.errors.map((e: { field: string }) => e.field), JSON.stringify(body)).toContain(field);
    }
    expect((await h.api('GET', `/conference/v1/subscribers/${me.sid}`)).json.callback).toBeUndefined();
  });

  it('posts signed events of a real call to the callback, retrying after a 500', async () => {
    const me = (await h.api('GET', '/conference/v1/subscribers/whoami')).json;
    const set = await h.api('PUT', `/conference/v1/subscribers/${me.sid}`, {
      body: { callback: { url: `http://127.0.0.1:${RECEIVER_PORT}/admin-hook`, secret: SECRET } },
    });
    expect(set.status, set.text).toBe(200);
    expect(set.json.callback).toMatchObject({ url: `http://127.0.0.1:${RECEIVER_PORT}/admin-hook` });
    expect(set.json.callback.secret).toBeUndefined(); // the client chose it: never echoed
    expect((await h.api('GET', `/conference/v1/subscribers/${me.sid}`)).json.callback.secret).toBeUndefined();

    // A user with a callback and no rooms: none of meeting 1000's events go to them.
    const user = await h.api('POST', '/conference/v1/subscribers', {
      body: { login: 'walter', password: 'walter-password', role: 3, eventCallbackUrl: `http://127.0.0.1:${RECEIVER_PORT}/user-hook` },
    });
    expect(user.status, user.text).toBe(200);
    expect(user.json.callback.url).toBe(`http://127.0.0.1:${RECEIVER_PORT}/user-hook`);
    expect(user.json.callback.secret).toMatch(/^[A-Za-z0-9_-]{40,}$/); // made by the server, shown this once
    expect((await h.api('GET', `/conference/v1/subscribers/${user.json.sid}`)).json.callback.secret).toBeUndefined();

    const sink = await RtpSink.open(24804);
    const run = runCaller(
      {
        dialed: '15550100',
        rtpPort: sink.port,
        steps: [{ kind: 'pause', ms: 500 }, { kind: 'pcap', path: h.media.digits('wanda', '2222#') }, { kind: 'pause', ms: 2000 }, { kind: 'bye' }],
      },
      { serverPort: PORTS.sip, sipPort: 25821, mediaPort: 24520, timeoutSeconds: 60 },
    );
    try {
      const result = await run.done;
      expect(result.code, result.errors + result.output.slice(-2000)).toBe(0);
      await waitFor(() => posts.some((p) => p.json.event === 'meeting-end' && p.status === 200), 20_000, 'meeting-end delivered');

      for (const post of posts) {
        expect(post.signature, post.body).toBe(webhookSignature(SECRET, post.timestamp, post.body));
        expect(Math.abs(Number(post.timestamp) - Date.now() / 1000)).toBeLessThan(60);
        expect(post.path).toBe('/admin-hook');
      }
      expect(webhookSignature('another-secret-entirely', posts[0]!.timestamp, posts[0]!.body)).not.toBe(posts[0]!.signature);
      // The first post failed (500) and the same event came again before any other.
      expect(posts[0]!.status).toBe(500);
      expect(posts[1]!.json.seq).toBe(posts[0]!.json.seq);
      const accepted = posts.filter((p) => p.status === 200).map((p) => p.json);
      expect(accepted.map((e) => e.event)).toEqual(['meeting-start', 'add-member', 'del-member', 'meeting-end']);
      for (let i = 1; i < accepted.length; i++) expect(accepted[i].seq).toBeGreaterThan(accepted[i - 1].seq);
      expect(accepted[1]).toMatchObject({ meetingNumber: 1000, caller_id_number: 'caller', data: { role: 'participant' } });
      expect(accepted[1].call_id).toContain(`-${run.process.pid}@`);
    } finally {
      run.process.kill();
      sink.close();
    }
  });
});
