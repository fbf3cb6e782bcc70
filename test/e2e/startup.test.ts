/**
 * Start-up failures an operator must be able to act on: a port already
 * taken names itself, and the server starts nothing half-way.
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startTestServer } from '../support/testServer.js';

const PORTS = { sip: 25160, http: 25180, rtpMin: 42000, rtpMax: 42099 };

describe('start-up', () => {
  it('fails naming the SIP port when it is taken, and frees what it opened', async () => {
    const squatter = createSocket('udp4');
    await new Promise<void>((resolve) => squatter.bind(PORTS.sip, '127.0.0.1', () => resolve()));
    try {
      await expect(startTestServer(PORTS)).rejects.toThrow(`SIP UDP port ${PORTS.sip} on 127.0.0.1 is already in use`);
    } finally {
      squatter.close();
    }
    // Nothing was left bound: the same ports start cleanly now.
    const server = await startTestServer(PORTS);
    await server.stop();
  });

  it('fails naming the HTTP port when it is taken', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(PORTS.http, '127.0.0.1', () => resolve()));
    try {
      await expect(startTestServer(PORTS)).rejects.toThrow(`HTTP TCP port ${PORTS.http} on 127.0.0.1 is already in use`);
    } finally {
      squatter.close();
    }
  });

  it('serves the health probe', async () => {
    const server = await startTestServer(PORTS);
    try {
      const response = await fetch(`http://127.0.0.1:${PORTS.http}/healthz`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: 'ok', meetings: 0, legs: 0 });
      const missing = await fetch(`http://127.0.0.1:${PORTS.http}/nope`);
      expect(missing.status).toBe(404);
    } finally {
      await server.stop();
    }
  });
});
