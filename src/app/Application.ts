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
import { CallbackUrlPolicy } from '../events/CallbackUrlPolicy.js';
import { normalizePhoneNumber } from '../conference/PhoneNumber.js';
import { CallSession } from '../ivr/CallSession.js';
import type { KeypadCommandReport, KeypadServices } from '../ivr/MeetingKeypad.js';
import { keypadBindingsForRoom } from '../ivr/keypadAttributes.js';
import { resolveMeetingAttributes } from '../conference/attributes/ResolvedAttributes.js';
import type { Meeting } from '../conference/Meeting.js';
import { NameDirectory } from '../ivr/NameDirectory.js';
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
import { RecordingFiles } from '../store/RecordingFiles.js';
import { MeetingRecorder } from './MeetingRecorder.js';
import type { ConferenceStore } from '../store/StoreTypes.js';

/**
 * The whole server: it builds every plane from the configuration, admits
 * inbound calls (DID lookup, SDP negotiation, media leg) and hands each
 * answered call to a CallSession. `close()` takes it all down in order.
 */
export class Application {
  private readonly closers: Array<() => Promise<void> | void> = [];
  private store!: ConferenceStore;
  private recordingStore!: SqliteStore;
  /** Meeting recordings (keypad recording_dtmf, API recording-start/stop, conference_recording auto). */
  private media!: MediaEngine;
  private conference!: ConferenceManager;
  private prompts!: PromptLibrary;
  private sip!: SipServer;
  /** `*8` invitations go out through the SIP server. */
  private dialer!: Dialer;
  /** The in-meeting keypad's ports, the same for callers who dialed in and for invited callees. */
  private keypadServices: KeypadServices = {};
  private http!: HttpServer;
  private readonly ivrCalls = new IvrCalls();
  private events!: EventFeed;
  private closed = false;
  /** The operator transfer after too many wrong codes (config `ivr.operatorNumber`); none when it is empty. */
  private operatorRoute: OperatorRoute | undefined;
  /** Roll call's recorded names, one directory per call, emptied at start-up. */
  private names!: NameDirectory;

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
    this.store = this.recordingStore = SqliteStore.open(config.dataDir);
    this.closers.push(() => this.store.close());
    if (provisionFromConfig(this.store, config.provisioning)) logger.info({ dataDir: config.dataDir }, 'store provisioned from configuration');
    this.names = NameDirectory.open(config.dataDir, logger.child({ component: 'roll-call' }));
    // Runs after the media engine has closed (closers run in reverse): no recorder holds a name file then.
    this.closers.push(() => this.names.close());

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
      keypad: { prompts, setupFor: (meeting) => this.invitedKeypadSetup(meeting), services: () => this.keypadServices },
      logger: logger.child({ component: 'dial-out' }),
    });
    this.keypadServices.dialer = this.dialer;
    this.keypadServices.commandCarriedOut = (report) => this.reportKeypadCommand(report);
    if (config.ivr.operatorNumber !== '') {
      const media = this.media;
      this.operatorRoute = { number: config.ivr.operatorNumber, dialer: this.dialer, createRoom: () => media.createRoom() };
    }

    const apiLogger = logger.child({ component: 'api' });
    const admin = await bootstrapAdministrator(this.store, this.env, apiLogger);
    const events = new EventFeed(this.conference, apiLogger);
    this.events = events;
    const callbackPolicy = new CallbackUrlPolicy({ allowedNetworks: config.webhooks.allowedNetworks });
    const webhooks = new WebhookDispatcher({
      policy: callbackPolicy,
      feed: events,
      targets: () => this.store.listSubscriberCallbacks(),
      logger: logger.child({ component: 'webhooks' }),
    });
    this.closers.push(() => webhooks.close());
    const subscriberFiles = new SubscriberFiles(join(config.dataDir, 'files'));
    const recordingFiles = new RecordingFiles(subscriberFiles, config.dataDir);
    const recorder = new MeetingRecorder({
      conference: this.conference,
      store: this.recordingStore,
      files: recordingFiles,
      announcement: (language) => prompts.resolve(['conf-now-recording'], language),
      report: (meeting, event, participant, data) => events.report(meeting, event, participant, data),
      logger: logger.child({ component: 'recorder' }),
    });
    this.keypadServices.recording = recorder;
    // Runs before the meetings end and the store closes: the last rows get written.
    this.closers.push(() => recorder.close());
    const api = new ControlApi({
      store: this.store,
      conference: this.conference,
      logger: apiLogger,
      disabledReason: admin.ready ? undefined : admin.reason,
      maxCodeLength: config.ivr.maxCodeLength,
      events,
      callbackPolicy,
      ivrCalls: this.ivrCalls,
      dialer: apiDialer(this.dialer, this.conference),
      files: subscriberFiles,
      legStats: (participant) => (participant.leg.closed ? undefined : participant.leg.stats()),
      recorder,
      recordings: { store: this.recordingStore, files: recordingFiles },
      metrics: {
        meetings: () => ({
          meetings: this.conference.meetings.length,
          participants: this.conference.meetings.reduce((n, m) => n + m.participants.length, 0),
        }),
        media: () => this.media.stats(),
        legs: () => this.meetingLegs().map((leg) => leg.stats()),
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

  /** An invited callee dialed no DID: their keypad and language are the meeting's (its primary DID group and room). */
  private invitedKeypadSetup(meeting: Meeting): { bindings: ReturnType<typeof keypadBindingsForRoom>; language: string } {
    const logger = this.logger.child({ component: 'dial-out', meetingNumber: meeting.meetingNumber });
    const attributes = resolveMeetingAttributes({ store: this.store, room: meeting.room, logger });
    return {
      bindings: keypadBindingsForRoom(this.store, meeting.room.primaryDidGroupId, meeting.room, attributes, logger),
      language: attributes.text('conference_language', 'EN'),
    };
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
        stats: () => (leg.closed ? undefined : leg.stats()),
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
        keypad: { services: this.keypadServices },
        rollCall: { names: this.names, createRoom: () => this.media.createRoom(), loadSound: (path) => this.media.loadSound(path) },
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

  private reportKeypadCommand(r: KeypadCommandReport): void {
    this.events.report(r.meeting, 'keypad-command', r.participant, { command: r.command, sequence: r.sequence, outcome: r.outcome });
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
