import { join } from 'node:path';
import type { AppConfig } from '../config/Config.js';
import type { Logger } from '../log.js';
import { bootstrapAdministrator } from '../api/auth.js';
import { CallRate } from '../api/CallRate.js';
import { IvrCalls } from '../api/IvrCalls.js';
import { ControlApi } from '../api/ControlApi.js';
import { HttpServer } from '../api/HttpServer.js';
import { ConferenceManager } from '../conference/ConferenceManager.js';
import type { Dialer, OperatorRoute } from '../ivr/Dialer.js';
import { EventFeed } from '../events/EventFeed.js';
import { WebhookDispatcher } from '../events/WebhookDispatcher.js';
import { normalizePhoneNumber } from '../conference/PhoneNumber.js';
import { CallSession } from '../ivr/CallSession.js';
import { PromptLibrary } from '../ivr/PromptLibrary.js';
import { MediaEngine } from '../media/MediaEngine.js';
import type { MediaLeg } from '../media/MediaLeg.js';
import type { InboundCall } from '../sip/InboundCall.js';
import { SipServer } from '../sip/SipServer.js';
import { callDelaySeconds } from './callDelay.js';
import { planInboundMedia } from './inboundMedia.js';
import { provisionFromConfig } from '../store/provision.js';
import { apiDialer, SipDialer } from './dialOut.js';
import { SqliteStore } from '../store/SqliteStore.js';
import { SubscriberFiles } from '../store/SubscriberFiles.js';
import type { ConferenceStore } from '../store/StoreTypes.js';

/**
 * The whole server: it builds every plane from the configuration, admits
 * inbound calls (DID lookup, SDP negotiation, media leg) and hands each
 * answered call to a CallSession. `close()` takes it all down in order.
 */
export class Application {
  private readonly closers: Array<() => Promise<void> | void> = [];
  private store!: ConferenceStore;
  private media!: MediaEngine;
  private conference!: ConferenceManager;
  private prompts!: PromptLibrary;
  private sip!: SipServer;
  /** `*8` invitations go out through the SIP server. */
  private dialer!: Dialer;
  private http!: HttpServer;
  private readonly ivrCalls = new IvrCalls();
  private closed = false;
  /** The operator transfer after too many wrong codes (config `ivr.operatorNumber`); none when it is empty. */
  private operatorRoute: OperatorRoute | undefined;

  private constructor(
    readonly config: AppConfig,
    private readonly logger: Logger,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /**
   * `env` supplies the settings not yet in the configuration file:
   * ADMIN_LOGIN and ADMIN_PASSWORD (the control API's first administrator).
   */
  static async start(config: AppConfig, logger: Logger, env: NodeJS.ProcessEnv = process.env): Promise<Application> {
    const app = new Application(config, logger, env);
    try {
      await app.open();
    } catch (err) {
      await app.close();
      throw err;
    }
    return app;
  }

  get conferenceManager(): ConferenceManager {
    return this.conference;
  }

  get mediaEngine(): MediaEngine {
    return this.media;
  }

  private async open(): Promise<void> {
    const { config, logger } = this;
    this.store = SqliteStore.open(config.dataDir);
    this.closers.push(() => this.store.close());
    if (provisionFromConfig(this.store, config.provisioning)) logger.info({ dataDir: config.dataDir }, 'store provisioned from configuration');

    this.media = await MediaEngine.create({
      bindAddress: config.rtp.bindAddress,
      rtpPortMin: config.rtp.portMin,
      rtpPortMax: config.rtp.portMax,
      workerThreads: config.media.workerThreads,
      rtpTimeoutMs: config.media.rtpTimeoutSeconds * 1000,
      // Each plane labels its own lines with `component`.
      logger,
    });
    this.closers.push(() => this.media.close());
    this.prompts = new PromptLibrary(
      this.media,
      config.prompts.directory,
      logger.child({ component: 'prompts' }),
      config.prompts.musicOnHold,
    );
    const prompts = this.prompts;
    this.conference = new ConferenceManager(this.media, logger.child({ component: 'conference' }), {
      holdMusic: () => prompts.musicOnHold(),
      entryTone: () => prompts.tone('entry'),
      exitTone: () => prompts.tone('exit'),
      aloneMusic: (name) => prompts.musicNamed(name),
    });
    this.closers.push(() => this.conference.endAll());

    this.sip = await SipServer.listen({
      bindAddress: config.sip.bindAddress,
      port: config.sip.port,
      advertisedAddress: config.sip.advertisedAddress,
      trunks: config.trunks,
      maxMessageBytes: config.sip.limits.maxMessageBytes,
      maxHeaderCount: config.sip.limits.maxHeaderCount,
      maxDialogs: config.sip.limits.maxDialogs,
      ...(config.sip.limits.inviteRate ? { inviteRateLimit: config.sip.limits.inviteRate } : {}),
      defaultRingTimeoutMs: config.sip.ringTimeoutSeconds * 1000,
      sessionTimers: config.sip.sessionTimers ?? false,
      ...(config.sip.tls ? { tls: config.sip.tls } : {}),
      logger,
    });
    this.closers.push(() => this.sip.close());
    const callRate = new CallRate();
    this.sip.on('call', (call) => {
      callRate.count();
      this.admit(call);
    });
    this.dialer = new SipDialer({
      sip: this.sip,
      media: this.media,
      trunks: config.trunks,
      advertisedAddress: config.sip.advertisedAddress,
      logger: logger.child({ component: 'dial-out' }),
    });
    if (config.ivr.operatorNumber !== '') {
      const media = this.media;
      this.operatorRoute = { number: config.ivr.operatorNumber, dialer: this.dialer, createRoom: () => media.createRoom() };
    }

    const apiLogger = logger.child({ component: 'api' });
    const admin = await bootstrapAdministrator(this.store, this.env, apiLogger);
    const events = new EventFeed(this.conference, apiLogger);
    const webhooks = new WebhookDispatcher({
      feed: events,
      targets: () => this.store.listSubscriberCallbacks(),
      logger: logger.child({ component: 'webhooks' }),
    });
    this.closers.push(() => webhooks.close());
    const api = new ControlApi({
      store: this.store,
      conference: this.conference,
      logger: apiLogger,
      disabledReason: admin.ready ? undefined : admin.reason,
      maxCodeLength: config.ivr.maxCodeLength,
      events,
      ivrCalls: this.ivrCalls,
      dialer: apiDialer(this.dialer, this.conference),
      files: new SubscriberFiles(join(config.dataDir, 'files')),
      metrics: {
        meetings: () => ({
          meetings: this.conference.meetings.length,
          participants: this.conference.meetings.reduce((n, m) => n + m.participants.length, 0),
        }),
        media: () => this.media.stats(),
        legs: () => {
          const totals = { legs: 0, packetsReceived: 0, framesConcealed: 0 };
          for (const leg of this.meetingLegs()) {
            const stats = leg.stats();
            totals.legs++;
            totals.packetsReceived += stats.packetsReceived;
            totals.framesConcealed += stats.framesConcealed;
          }
          return totals;
        },
        calls: () => ({ total: callRate.total, perSecond: callRate.perSecond() }),
        webhooks: () => webhooks.stats(),
      },
    });
    this.http = await HttpServer.listen({
      bindAddress: config.http.bindAddress,
      port: config.http.port,
      logger: logger.child({ component: 'http' }),
      health: () => ({ status: 'ok', meetings: this.conference.meetings.length, legs: this.media.stats().legs }),
      api,
    });
    this.closers.push(() => this.http.close());
    logger.info(
      { sipPort: config.sip.port, httpPort: this.http.port, rtpPorts: `${config.rtp.portMin}-${config.rtp.portMax}` },
      'conference bridge started',
    );
  }

  /** The open media legs of everyone in a meeting. */
  private meetingLegs(): MediaLeg[] {
    return this.conference.meetings.flatMap((m) => m.participants.map((p) => p.leg)).filter((leg) => !leg.closed);
  }

  private admit(call: InboundCall): void {
    const logger = this.logger.child({ callId: call.info.callId });
    const { dialed } = call.info;
    const number = normalizePhoneNumber(dialed);
    const did = number === undefined ? undefined : this.store.findDid(number);
    if (!did) {
      logger.info({ dialed }, 'number not provisioned');
      call.reject(404, 'Not Found');
      return;
    }
    const media = planInboundMedia(call.info.offerSdp, this.config.sip.advertisedAddress);
    if (!media.ok) {
      logger.info({ status: media.status, reason: media.reason, delayedOffer: call.info.offerSdp === '' }, 'offer refused');
      call.reject(media.status, media.reason);
      return;
    }
    // Nothing is allocated before the answer, so a CANCEL while ringing leaves nothing behind.
    const answer = (): void => {
      if (call.state !== 'ringing') return;
      let leg: MediaLeg;
      try {
        leg = this.media.createLeg({ callId: call.info.callId, ...media.leg });
      } catch (err) {
        logger.error({ err }, 'no media leg for the call');
        call.reject(503, 'Service Unavailable');
        return;
      }
      call.accept(media.localSdp(leg.localPort));
      if (call.endReason) {
        // accept() failed and ended the call.
        leg.close();
        return;
      }
      const callId = call.info.callId;
      this.ivrCalls.add({
        callId,
        caller: call.info.from.user,
        callee: dialed,
        codec: media.leg.codec,
        hangup: (reason) => call.hangup(reason),
      });
      call.once('ended', () => this.ivrCalls.remove(callId));
      new CallSession({
        call,
        leg,
        remoteHold: media.hold,
        did,
        store: this.store,
        conference: this.conference,
        prompts: this.prompts,
        flow: {
          digitTimeoutMs: this.config.ivr.digitTimeoutSeconds * 1000,
          maxAttempts: this.config.ivr.maxCodeAttempts,
          maxCodeLength: this.config.ivr.maxCodeLength,
          prompts: { enterCode: 'conf-getpin', invalidCode: 'conf-invalidpin', goodbye: 'goodbye' },
        },
        ...(this.operatorRoute ? { operator: this.operatorRoute } : {}),
        keypad: { services: { dialer: this.dialer } },
        logger,
      }).start();
    };
    const delaySeconds = callDelaySeconds(did, this.store, logger);
    if (delaySeconds === 0) {
      answer();
      return;
    }
    // Seed 004 call_delay: ring first, answer later unless the caller gives up.
    call.ring();
    logger.info({ delaySeconds }, 'answer delayed by call_delay');
    const timer = setTimeout(answer, delaySeconds * 1000);
    call.once('ended', () => clearTimeout(timer));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const close of this.closers.reverse()) {
      try {
        await close();
      } catch (err) {
        this.logger.error({ err }, 'error while shutting down');
      }
    }
    this.logger.info('conference bridge stopped');
  }
}
