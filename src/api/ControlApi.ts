/**
 * The REST control API under /conference/v1: path checks, authentication,
 * roles, query and body validation, then the route handler; every failure
 * answers in seed 004's error shape and changes nothing.
 */
import { open } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { hostname } from 'node:os';
import type { Duplex } from 'node:stream';
import type { ConferenceManager } from '../conference/ConferenceManager.js';
import type { EventFeed } from '../events/EventFeed.js';
import { CallbackUrlPolicy } from '../events/CallbackUrlPolicy.js';
import type { Logger } from '../log.js';
import type { Participant } from '../conference/Participant.js';
import type { LegStats } from '../media/MediaTypes.js';
import type { ConferenceStore } from '../store/StoreTypes.js';
import type { SubscriberFiles } from '../store/SubscriberFiles.js';
import type { RecordingFiles } from '../store/RecordingFiles.js';
import type { RecordingStore } from '../store/RecordingTypes.js';
import { StoreConflictError, StoreReferenceError } from '../store/StoreTypes.js';
import { apiDisabled, Authenticator } from './auth.js';
import { ApiError, detail, forbidden } from './errors.js';
import { EventSocket, feedOpenApiPaths, refuseUpgrade } from './EventSocket.js';
import type { Dialer } from './Dialer.js';
import type { IvrCall, IvrCalls } from './IvrCalls.js';
import { METRICS_OPENAPI_PATH, renderMetrics, type MetricsSources } from './MetricsPage.js';
import { parseFieldSelection, parseListQuery, type ListQuery } from './listing.js';
import { buildOpenApi } from './openapi.js';
import { DEFAULT_BODY_LIMIT, pathSegments, readJsonBody, Router, validateBody, type FileBody, type Principal, type RouteContext } from './router.js';
import { addConfigRoutes } from './routes/configRoutes.js';
import { addFileRoutes, FILE_UPLOAD_BODY } from './routes/fileRoutes.js';
import { addLiveRoutes, type MeetingRecorderPort } from './routes/liveRoutes.js';
import { addRecordingRoutes } from './routes/recordingRoutes.js';
import { addSubscriberRoomRoutes } from './routes/subscriberRoomRoutes.js';

export const API_BASE = '/conference/v1';

export interface ControlApiOptions {
  store: ConferenceStore;
  conference: ConferenceManager;
  logger: Logger;
  /** Set when the API must refuse every request (no administrator); the reason is sent back. */
  disabledReason?: string;
  maxCodeLength: number;
  bodyLimit?: number;
  /** The live event feed, served over WebSocket at /events and /meetings/{n}/events. */
  events?: EventFeed;
  /** Where /metrics reads its numbers. */
  metrics?: MetricsSources;
  /** Which callback URLs subscribers may store; by default internal addresses are refused. */
  callbackPolicy?: CallbackUrlPolicy;
  /** Answered calls, for listing those not in a meeting yet under /calls. */
  ivrCalls?: IvrCalls;
  /** Outbound calls into meetings (POST /meetings/{n}/calls); without it that route answers 503. */
  dialer?: Dialer;
  /** Subscribers' media files (/subscribers/{sid}/files); without it those routes do not exist. */
  files?: SubscriberFiles;
  maxUploadBytes?: number;
  /** RTP/RTCP figures of a participant's call (the Call object's `media`). */
  legStats?: (participant: Participant) => LegStats | undefined;
  /** The meeting recorder (meeting actions recording-start/stop, isRecording). */
  recorder?: MeetingRecorderPort;
  /** Finished recordings (/recordings); without it those routes do not exist. */
  recordings?: { store: RecordingStore; files: RecordingFiles };
}

const NO_LIST: ListQuery = { offset: 0, limit: 0, fields: {} };

export class ControlApi {
  readonly router = new Router();
  private readonly auth: Authenticator;
  private openApiText: string | undefined;
  private readonly eventSocket: EventSocket | undefined;

  constructor(private readonly options: ControlApiOptions) {
    this.auth = new Authenticator(options.store);
    const feed = options.events;
    if (feed) {
      this.eventSocket = new EventSocket({
        feed,
        store: options.store,
        logger: options.logger,
        authenticate: (request) => this.authenticate(request),
      });
    }
    addConfigRoutes(this.router, {
      store: options.store,
      maxCodeLength: options.maxCodeLength,
      hasLiveMeeting: (meetingNumber) => options.conference.getMeeting(meetingNumber) !== undefined,
      callbackPolicy: options.callbackPolicy ?? new CallbackUrlPolicy(),
      subscriberDeleted: (sid) => options.files?.deleteAll(sid),
    });
    addSubscriberRoomRoutes(this.router, options.store);
    if (options.files) {
      addFileRoutes(this.router, {
        store: options.store,
        files: options.files,
        recordings: options.recordings?.store,
        maxUploadBytes: options.maxUploadBytes,
      });
    }
    addLiveRoutes(this.router, {
      conference: options.conference,
      store: options.store,
      bridgeName: 'conference-bridge',
      nodeName: hostname(),
      participantUpdated: (meeting, participant) => feed?.participantUpdated(meeting, participant),
      ivrCalls: () => this.callsInIvr(),
      dialer: options.dialer,
      voice: (participant) => feed?.voice(participant),
      legStats: options.legStats,
      recorder: options.recorder,
    });
    if (options.recordings) addRecordingRoutes(this.router, options.recordings);
  }

  /** Answered calls that have not joined a meeting (yet). */
  private callsInIvr(): IvrCall[] {
    const registry = this.options.ivrCalls;
    if (!registry) return [];
    const inMeetings = new Set(this.options.conference.meetings.flatMap((m) => m.participants.map((p) => p.callId)));
    return registry.list().filter((c) => !inMeetings.has(c.callId));
  }

  /** A WebSocket upgrade on an API path: the event feeds; anything else is refused. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, rawPath: string, query: URLSearchParams): void {
    const refuse = (error: ApiError): void => refuseUpgrade(socket, error);
    let segments: string[];
    try {
      segments = pathSegments(rawPath, API_BASE)!;
    } catch (err) {
      refuse(err as ApiError);
      return;
    }
    if (!this.eventSocket) return refuse(new ApiError(404, 'not found', [detail('path', 'the event feed is not enabled')]));
    if (this.options.disabledReason) return refuse(apiDisabled(this.options.disabledReason));
    this.eventSocket.upgrade(request, socket, head, segments, query).catch((err: unknown) => {
      this.options.logger.error({ err }, 'event feed upgrade failed');
      socket.destroy();
    });
  }

  /**
   * GET /metrics (Prometheus text format): Basic credentials of an
   * administrator or operator, like the API; the figures reveal traffic.
   */
  async handleMetrics(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      const sources = this.options.metrics;
      if (!sources) throw new ApiError(404, 'not found', [detail('path', 'metrics are not enabled')]);
      if (this.options.disabledReason) throw apiDisabled(this.options.disabledReason);
      const principal = await this.auth.authenticate(request);
      if (principal.role === 'user') throw forbidden('users may not read /metrics');
      const text = renderMetrics({
        ...sources,
        feedClients: () => this.eventSocket?.clientCount ?? 0,
        callsInIvr: () => this.callsInIvr().length,
      });
      response.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
      response.end(request.method === 'HEAD' ? undefined : text);
    } catch (err) {
      const apiError = this.toApiError(err);
      send(response, apiError.status, apiError.body, apiError.headers);
    }
  }

  /** Closes the event feed connections (the HTTP server closes the rest). */
  close(): void {
    this.eventSocket?.close();
  }

  private authenticate(request: IncomingMessage): Promise<Principal> {
    return this.auth.authenticate(request);
  }

  openApi(): Record<string, unknown> {
    const doc = buildOpenApi(this.router.routes, API_BASE, '1.0.0');
    // What the router does not describe: the multipart upload's body, the WebSocket feeds and /metrics.
    const paths = doc.paths as Record<string, Record<string, Record<string, unknown>>>;
    const upload = paths[`${API_BASE}/subscribers/{sid}/files`]?.post;
    if (upload) upload.requestBody = FILE_UPLOAD_BODY;
    if (this.eventSocket) Object.assign(paths, feedOpenApiPaths(API_BASE));
    if (this.options.metrics) Object.assign(paths, METRICS_OPENAPI_PATH);
    return doc;
  }

  /** Whether the path belongs to the API. */
  owns(path: string): boolean {
    return path === API_BASE || path.startsWith(`${API_BASE}/`);
  }

  async handle(request: IncomingMessage, response: ServerResponse, rawPath: string, query: URLSearchParams): Promise<void> {
    const started = Date.now();
    let status = 500;
    try {
      const result = await this.dispatch(request, rawPath, query);
      status = result.status;
      if (result.file) await sendFile(request, response, result.status, result.file);
      else send(response, result.status, result.body, result.headers);
    } catch (err) {
      const apiError = this.toApiError(err);
      status = apiError.status;
      send(response, apiError.status, apiError.body, apiError.headers);
    } finally {
      this.options.logger.info({ method: request.method, path: rawPath, status, ms: Date.now() - started }, 'API request');
    }
  }

  private async dispatch(
    request: IncomingMessage,
    rawPath: string,
    query: URLSearchParams,
  ): Promise<{ status: number; body?: unknown; headers?: Record<string, string>; file?: FileBody }> {
    const segments = pathSegments(rawPath, API_BASE)!;
    const method = request.method ?? 'GET';
    if (segments.length === 1 && segments[0] === 'openapi.json' && (method === 'GET' || method === 'HEAD')) {
      // The contract is public; it holds no data.
      this.openApiText ??= JSON.stringify(this.openApi());
      return { status: 200, body: JSON.parse(this.openApiText) as unknown };
    }
    if (this.options.disabledReason) throw apiDisabled(this.options.disabledReason);
    const principal = await this.auth.authenticate(request);
    const { route, params, ids } = this.router.match(method, segments);
    if (!route.roles.includes(principal.role)) throw forbidden(`${principal.role}s may not ${method} ${route.path}`);

    let list = NO_LIST;
    let fields = {};
    if (route.query === 'list') {
      list = parseListQuery(query, route.itemSchema!);
      fields = list.fields;
    } else if (route.query === 'item') {
      fields = parseFieldSelection(query, route.itemSchema!);
    } else {
      for (const key of query.keys()) throw new ApiError(400, 'bad request', [detail(key, 'unknown query parameter (this request takes none)')]);
    }
    let body: unknown;
    if (route.body) body = validateBody(route.body, await readJsonBody(request, this.options.bodyLimit ?? DEFAULT_BODY_LIMIT));
    const ctx: RouteContext<unknown> = { params, ids, query, body, principal, request, list, fields };
    const result = await route.handler(ctx);
    return result;
  }

  private toApiError(err: unknown): ApiError {
    if (err instanceof ApiError) return err;
    if (err instanceof StoreConflictError) return new ApiError(409, 'conflict', [detail(null, err.message)]);
    if (err instanceof StoreReferenceError) return new ApiError(422, 'object validation error', [detail(err.field, err.message)]);
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT')) {
      return new ApiError(409, 'conflict', [detail(null, 'the change conflicts with existing data')]);
    }
    this.options.logger.error({ err }, 'API request failed');
    return new ApiError(500, 'internal server error', [detail(null, 'the server failed to handle the request; see its log')]);
  }
}

/** Streams a download; the size is taken when opening, so a file deleted meanwhile ends the response cleanly. */
async function sendFile(request: IncomingMessage, response: ServerResponse, status: number, file: FileBody): Promise<void> {
  const handle = await open(file.path, 'r');
  try {
    const { size } = await handle.stat();
    response.writeHead(status, {
      'Content-Type': file.contentType,
      'Content-Length': size,
      // The name is a checked plain file name (letters, digits, _ - .): safe to quote as is.
      'Content-Disposition': `attachment; filename="${file.name}"`,
    });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    await pipeline(handle.createReadStream({ start: 0, end: Math.max(0, size - 1), autoClose: false }), response);
  } catch (err) {
    response.destroy(err as Error);
  } finally {
    await handle.close();
  }
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (response.headersSent) return;
  if (status === 204 || body === undefined) {
    response.writeHead(status, headers);
    response.end();
    return;
  }
  const text = JSON.stringify(body);
  response.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}
