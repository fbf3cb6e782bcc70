import { readFileSync } from 'node:fs';
import { availableParallelism, networkInterfaces } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { findPackageRoot } from '../util/packageRoot.js';
import type { Role } from '../conference/Role.js';
import { parseRole } from '../conference/Role.js';
import type { SipTrunk } from '../sip/SipTypes.js';
import { parseAddressSpec } from '../sip/trunks.js';

/** A trunk as configured; the same shape SipServer takes (`trunks` option). */
export type TrunkConfig = SipTrunk;

export interface SipLimitsConfig {
  /** Largest SIP message accepted, in bytes. */
  maxMessageBytes: number;
  /** Most header fields in one message. */
  maxHeaderCount: number;
  /** Most concurrent calls (inbound + outbound). */
  maxDialogs: number;
  /** Per-source INVITE token bucket; undefined when switched off. */
  inviteRate?: { perSecond: number; burst: number };
}

export interface KeyConfig {
  accessCode: string;
  role: Role;
}

export interface MeetingRoomConfig {
  meetingNumber: number;
  description: string;
  primaryDidGroup: string;
  keychain: KeyConfig[];
}

export interface DidGroupConfig {
  name: string;
  description: string;
  dids: string[];
}

export interface AppConfig {
  sip: {
    bindAddress: string;
    port: number;
    advertisedAddress: string;
    limits: SipLimitsConfig;
    /** Default ring timeout of outbound calls, in seconds. */
    ringTimeoutSeconds: number;
    /**
     * RFC 4028 session timers on inbound calls; undefined when switched off.
     * minSeconds below RFC 4028's floor of 90 is accepted only as a test knob
     * (tests use a few seconds to stay short).
     */
    sessionTimers?: { expiresSeconds: number; minSeconds: number };
    /** SIP over TLS on its own port; undefined when no certificate is configured. */
    tls?: { port: number; certificateFile: string; privateKeyFile: string };
  };
  /** SIP trunks, in match order for inbound admission. */
  trunks: TrunkConfig[];
  http: { bindAddress: string; port: number };
  rtp: { bindAddress: string; portMin: number; portMax: number };
  media: { workerThreads: number; rtpTimeoutSeconds: number };
  dataDir: string;
  logLevel: string;
  prompts: { directory: string; musicOnHold: string };
  /** `operatorNumber`: where callers go after too many wrong access codes; empty: they hear goodbye. */
  ivr: { digitTimeoutSeconds: number; maxCodeAttempts: number; maxCodeLength: number; operatorNumber: string };
  provisioning: { didGroups: DidGroupConfig[]; meetingRooms: MeetingRoomConfig[] };
  /**
   * `allowedNetworks`: IP addresses or CIDR blocks webhook callbacks may
   * reach although they are loopback, private, link-local or otherwise
   * internal (all refused by default).
   */
  webhooks: { allowedNetworks: string[] };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const DEFAULT_CONFIG_PATH = resolve(findPackageRoot(), 'config/default.yaml');

/**
 * Reads a YAML configuration file and applies the environment overrides
 * (SIP_PORT, HTTP_PORT, RTP_PORT_MIN, RTP_PORT_MAX, DATA_DIR, LOG_LEVEL,
 * PUBLIC_ADDRESS). Every field is checked; a bad one fails with its path.
 */
export function loadConfig(path: string = DEFAULT_CONFIG_PATH, env: NodeJS.ProcessEnv = process.env): AppConfig {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read configuration ${path}: ${(err as Error).message}`);
  }
  const config = parseConfig(raw, dirname(path));
  applyEnvironment(config, env);
  if (config.rtp.portMin > config.rtp.portMax) {
    throw new ConfigError(`rtp.portMin (${config.rtp.portMin}) is above rtp.portMax (${config.rtp.portMax})`);
  }
  checkCodeLengths(config);
  if (!config.sip.advertisedAddress) config.sip.advertisedAddress = pickAdvertisedAddress(config.sip.bindAddress);
  return config;
}

function applyEnvironment(config: AppConfig, env: NodeJS.ProcessEnv): void {
  const port = (name: string): number | undefined => {
    const value = env[name];
    if (value === undefined || value === '') return undefined;
    return checkPort(Number(value), name);
  };
  config.sip.port = port('SIP_PORT') ?? config.sip.port;
  config.http.port = port('HTTP_PORT') ?? config.http.port;
  config.rtp.portMin = port('RTP_PORT_MIN') ?? config.rtp.portMin;
  config.rtp.portMax = port('RTP_PORT_MAX') ?? config.rtp.portMax;
  if (env.DATA_DIR) config.dataDir = resolve(env.DATA_DIR);
  if (env.LOG_LEVEL) config.logLevel = env.LOG_LEVEL;
  if (env.PUBLIC_ADDRESS) config.sip.advertisedAddress = env.PUBLIC_ADDRESS;
}

/** A code longer than callers may type could never be entered. */
function checkCodeLengths(config: AppConfig): void {
  config.provisioning.meetingRooms.forEach((room, r) =>
    room.keychain.forEach((key, k) => {
      if (key.accessCode.length > config.ivr.maxCodeLength) {
        throw new ConfigError(
          `provisioning.meetingRooms[${r}].keychain[${k}].accessCode is longer than ivr.maxCodeLength (${config.ivr.maxCodeLength})`,
        );
      }
    }),
  );
}

function pickAdvertisedAddress(bindAddress: string): string {
  if (bindAddress !== '0.0.0.0' && bindAddress !== '::') return bindAddress;
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address;
    }
  }
  return '127.0.0.1';
}

function checkPort(value: number, path: string): number {
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new ConfigError(`${path} must be a port number between 1 and 65535`);
  }
  return value;
}

/** A tiny typed reader so that every error names the field it is about. */
class Reader {
  constructor(
    private readonly value: unknown,
    readonly path: string,
  ) {}

  private field(name: string): Reader {
    const object = this.value;
    if (typeof object !== 'object' || object === null || Array.isArray(object)) {
      throw new ConfigError(`${this.path || 'configuration'} must be a mapping`);
    }
    return new Reader((object as Record<string, unknown>)[name], this.path ? `${this.path}.${name}` : name);
  }

  /** A mapping field; a missing one reads as empty (its own fields then report what is required). */
  object(name: string): Reader {
    const f = this.field(name);
    return f.value === undefined || f.value === null ? new Reader({}, f.path) : f;
  }

  /** True when the field is present (not undefined/null). */
  has(name: string): boolean {
    const v = this.field(name).value;
    return v !== undefined && v !== null;
  }

  /** A field that must be one of the given strings. */
  oneOf<T extends string>(name: string, values: readonly T[], fallback?: T): T {
    const v = this.string(name, fallback);
    if (!(values as readonly string[]).includes(v)) {
      throw new ConfigError(`${this.path ? this.path + '.' : ''}${name} must be one of ${values.join(', ')}`);
    }
    return v as T;
  }

  string(name: string, fallback?: string): string {
    const f = this.field(name);
    if (f.value === undefined || f.value === null) {
      if (fallback !== undefined) return fallback;
      throw new ConfigError(`${f.path} is required`);
    }
    if (typeof f.value !== 'string' && typeof f.value !== 'number') throw new ConfigError(`${f.path} must be a string`);
    return String(f.value);
  }

  number(name: string, fallback?: number): number {
    const f = this.field(name);
    if (f.value === undefined || f.value === null) {
      if (fallback !== undefined) return fallback;
      throw new ConfigError(`${f.path} is required`);
    }
    if (typeof f.value !== 'number' || !Number.isFinite(f.value)) throw new ConfigError(`${f.path} must be a number`);
    return f.value;
  }

  boolean(name: string, fallback: boolean): boolean {
    const f = this.field(name);
    if (f.value === undefined || f.value === null) return fallback;
    if (typeof f.value !== 'boolean') throw new ConfigError(`${f.path} must be true or false`);
    return f.value;
  }

  positiveInteger(name: string, fallback?: number): number {
    const value = this.number(name, fallback);
    if (!Number.isInteger(value) || value < 1) throw new ConfigError(`${this.path ? this.path + '.' : ''}${name} must be a positive integer`);
    return value;
  }

  port(name: string): number {
    return checkPort(this.number(name), this.path ? `${this.path}.${name}` : name);
  }

  list(name: string): Reader[] {
    const f = this.field(name);
    if (f.value === undefined || f.value === null) return [];
    if (!Array.isArray(f.value)) throw new ConfigError(`${f.path} must be a list`);
    return f.value.map((item, index) => new Reader(item, `${f.path}[${index}]`));
  }

  asString(): string {
    if (typeof this.value !== 'string' && typeof this.value !== 'number') throw new ConfigError(`${this.path} must be a string`);
    return String(this.value);
  }
}

function parseSessionTimers(timers: Reader): { sessionTimers?: { expiresSeconds: number; minSeconds: number } } {
  if (!timers.boolean('enabled', true)) return {};
  const expiresSeconds = timers.positiveInteger('expiresSeconds', 1800);
  const minSeconds = timers.positiveInteger('minSeconds', 90);
  if (minSeconds > expiresSeconds) throw new ConfigError(`${timers.path}.minSeconds must not exceed expiresSeconds`);
  return { sessionTimers: { expiresSeconds, minSeconds } };
}

function parseConfig(raw: unknown, baseDir: string): AppConfig {
  const root = new Reader(raw, '');
  const sip = root.object('sip');
  const http = root.object('http');
  const rtp = root.object('rtp');
  const media = root.object('media');
  const prompts = root.object('prompts');
  const ivr = root.object('ivr');
  const provisioning = root.object('provisioning');
  const webhooks = root.object('webhooks');
  const limits = sip.object('limits');
  return {
    sip: {
      bindAddress: sip.string('bindAddress'),
      port: sip.port('port'),
      advertisedAddress: sip.string('advertisedAddress', ''),
      limits: {
        maxMessageBytes: limits.positiveInteger('maxMessageBytes', 65535),
        maxHeaderCount: limits.positiveInteger('maxHeaderCount', 256),
        maxDialogs: limits.positiveInteger('maxDialogs', 10000),
        ...(limits.has('inviteRate')
          ? {
              inviteRate: {
                perSecond: positiveNumber(limits.object('inviteRate'), 'perSecond'),
                burst: limits.object('inviteRate').positiveInteger('burst'),
              },
            }
          : {}),
      },
      ringTimeoutSeconds: sip.positiveInteger('ringTimeoutSeconds', 60),
      ...parseSessionTimers(sip.object('sessionTimers')),
      ...(sip.has('tls')
        ? {
            tls: {
              port: sip.object('tls').port('port'),
              // Relative paths are taken from the configuration file's directory.
              certificateFile: resolve(baseDir, sip.object('tls').string('certificateFile')),
              privateKeyFile: resolve(baseDir, sip.object('tls').string('privateKeyFile')),
            },
          }
        : {}),
    },
    trunks: parseTrunks(root),
    webhooks: {
      allowedNetworks: webhooks.list('allowedNetworks').map((a) => {
        const text = a.asString();
        if (!parseAddressSpec(text)) throw new ConfigError(`${a.path} must be an IP address or CIDR block`);
        return text;
      }),
    },
    http: { bindAddress: http.string('bindAddress'), port: http.port('port') },
    rtp: { bindAddress: rtp.string('bindAddress'), portMin: rtp.port('portMin'), portMax: rtp.port('portMax') },
    media: { workerThreads: parseWorkerThreads(media), rtpTimeoutSeconds: media.positiveInteger('rtpTimeoutSeconds', 30) },
    // Relative data directories are taken from the working directory, as operators expect of ./data.
    dataDir: resolve(root.string('dataDir', './data')),
    logLevel: root.string('logLevel', 'info'),
    prompts: {
      directory: resolve(baseDir, prompts.string('directory')),
      musicOnHold: resolve(baseDir, prompts.string('musicOnHold', '/usr/share/asterisk/moh/macroform-cold_day.wav')),
    },
    ivr: {
      digitTimeoutSeconds: ivr.positiveInteger('digitTimeoutSeconds', 5),
      maxCodeAttempts: ivr.positiveInteger('maxCodeAttempts', 3),
      maxCodeLength: ivr.positiveInteger('maxCodeLength', 16),
      operatorNumber: ivr.string('operatorNumber', ''),
    },
    provisioning: {
      didGroups: provisioning.list('didGroups').map((group) => ({
        name: group.string('name'),
        description: group.string('description', ''),
        dids: group.list('dids').map((did) => did.asString()),
      })),
      meetingRooms: provisioning.list('meetingRooms').map((room) => ({
        meetingNumber: room.positiveInteger('meetingNumber'),
        description: room.string('description', ''),
        primaryDidGroup: room.string('primaryDidGroup'),
        keychain: room.list('keychain').map((key) => {
          const role = parseRole(key.string('role'));
          if (!role) throw new ConfigError(`${key.path}.role must be host, participant or listener`);
          const accessCode = key.string('accessCode');
          if (!/^[0-9*]{1,32}$/.test(accessCode)) throw new ConfigError(`${key.path}.accessCode must be 1-32 DTMF digits`);
          return { accessCode, role };
        }),
      })),
    },
  };
}

/** The engine's own limit on mixer threads. */
const MAX_WORKER_THREADS = 64;

/**
 * Mixer threads: `auto` (the default) is one per core, as the design wants;
 * a number pins it (1 keeps every meeting on one thread, e.g. when the
 * machine is shared with other services).
 */
function parseWorkerThreads(media: Reader): number {
  if (!media.has('workerThreads') || media.string('workerThreads') === 'auto') return Math.min(availableParallelism(), MAX_WORKER_THREADS);
  const threads = Number(media.string('workerThreads'));
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_WORKER_THREADS) {
    throw new ConfigError(`media.workerThreads must be auto or an integer from 1 to ${MAX_WORKER_THREADS}`);
  }
  return threads;
}

function positiveNumber(reader: Reader, name: string): number {
  const value = reader.number(name);
  if (!(value > 0)) throw new ConfigError(`${reader.path}.${name} must be a positive number`);
  return value;
}

function nonEmpty(reader: Reader, name: string): string {
  const value = reader.string(name);
  if (value.trim() === '') throw new ConfigError(`${reader.path}.${name} must not be empty`);
  return value;
}

/** "host:port", "[v6]:port" or "host" (port 5060). */
function parseHostPort(text: string, path: string): { host: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/.exec(text.trim());
  if (!m) throw new ConfigError(`${path} must be host:port`);
  const port = m[3] !== undefined ? checkPort(Number(m[3]), path) : 5060;
  return { host: m[1] ?? m[2]!, port };
}

const SIP_USER_RE = /^[A-Za-z0-9+\-_.!~*'()&=$,;?/]{1,64}$/;

function parseTrunks(root: Reader): TrunkConfig[] {
  const names = new Set<string>();
  return root.list('trunks').map((t) => {
    const name = nonEmpty(t, 'name');
    if (names.has(name)) throw new ConfigError(`${t.path}.name: duplicate trunk name ${name}`);
    names.add(name);
    const inbound = t.object('inbound');
    const addresses = inbound.list('addresses').map((a) => {
      const text = a.asString();
      if (!parseAddressSpec(text)) throw new ConfigError(`${a.path} must be an IP address or CIDR block`);
      return text;
    });
    const trunk: TrunkConfig = { name, inbound: { addresses } };
    if (inbound.has('auth')) {
      const auth = inbound.object('auth');
      trunk.inbound.auth = { realm: nonEmpty(auth, 'realm'), username: nonEmpty(auth, 'username'), password: nonEmpty(auth, 'password') };
    }
    if (t.has('outbound')) {
      const out = t.object('outbound');
      const proxy = parseHostPort(out.string('proxy'), `${out.path}.proxy`);
      const transport = out.oneOf('transport', ['udp', 'tcp'] as const, 'udp');
      const callerId = out.string('callerId');
      if (!SIP_USER_RE.test(callerId)) throw new ConfigError(`${out.path}.callerId must be a number or SIP user`);
      trunk.outbound = {
        proxy: { ...proxy, transport },
        callerId,
        numberFormat: out.oneOf('numberFormat', ['e164', 'e164-plus'] as const, 'e164-plus'),
      };
      const pai = out.string('pAssertedIdentity', '');
      if (pai !== '') trunk.outbound.pAssertedIdentity = pai;
      if (out.has('auth')) {
        const auth = out.object('auth');
        trunk.outbound.auth = { username: nonEmpty(auth, 'username'), password: nonEmpty(auth, 'password') };
      }
    }
    return trunk;
  });
}
