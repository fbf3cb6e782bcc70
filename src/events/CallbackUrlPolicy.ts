/**
 * Which addresses the bridge may post webhooks to. A subscriber's callback
 * URL is a request the bridge makes from inside its network, so by default
 * it must not reach loopback, private, link-local (cloud metadata at
 * 169.254.169.254), shared, multicast or reserved addresses; an operator
 * allows chosen networks back in the configuration (`webhooks.allowedNetworks`).
 *
 * Two checks: when a URL is stored, one whose host is a literal address
 * (or `localhost`) is refused at once; when a post is sent, the host is
 * resolved, every address it resolves to must pass, and the request is
 * pinned to the address checked, so a name that changes its answer
 * between check and connect (DNS rebinding) gains nothing.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import net from 'node:net';

/** A name resolution: every address of a host, as `dns.promises.lookup(host, { all: true })` answers. */
export type HostLookup = (host: string) => Promise<Array<{ address: string; family: number }>>;

export interface CallbackUrlPolicyOptions {
  /** CIDR blocks or addresses allowed even inside the denied ranges (e.g. `127.0.0.1/32` for a local receiver). */
  allowedNetworks?: readonly string[];
  lookup?: HostLookup;
}

/** Where a post may go: the address checked, to connect to exactly that. */
export type CallbackTarget = { ok: true; address: string; family: 4 | 6 } | { ok: false; reason: string };

/** Ranges no callback may reach unless allowed; each with the reason given. */
const DENIED: Array<[string, number, 'ipv4' | 'ipv6', string]> = [
  ['0.0.0.0', 8, 'ipv4', 'an unspecified ("this network") address'],
  ['10.0.0.0', 8, 'ipv4', 'a private address'],
  ['100.64.0.0', 10, 'ipv4', 'a shared (carrier NAT) address'],
  ['127.0.0.0', 8, 'ipv4', 'a loopback address'],
  ['169.254.0.0', 16, 'ipv4', 'a link-local address (cloud metadata lives there)'],
  ['172.16.0.0', 12, 'ipv4', 'a private address'],
  ['192.0.0.0', 24, 'ipv4', 'a protocol-assignment address'],
  ['192.168.0.0', 16, 'ipv4', 'a private address'],
  ['198.18.0.0', 15, 'ipv4', 'a benchmarking address'],
  ['224.0.0.0', 4, 'ipv4', 'a multicast address'],
  ['240.0.0.0', 4, 'ipv4', 'a reserved address'],
  ['192.0.2.0', 24, 'ipv4', 'a documentation address'],
  ['198.51.100.0', 24, 'ipv4', 'a documentation address'],
  ['203.0.113.0', 24, 'ipv4', 'a documentation address'],
  ['::', 128, 'ipv6', 'an unspecified address'],
  ['::1', 128, 'ipv6', 'a loopback address'],
  // IPv6 forms that carry an IPv4 address a host may route to (sit, NAT64, 6to4, Teredo).
  ['::', 96, 'ipv6', 'an IPv4-compatible address'],
  ['::ffff:0:0:0', 96, 'ipv6', 'an IPv4-translated (SIIT) address'],
  ['64:ff9b:1::', 48, 'ipv6', 'a local-use NAT64 address'],
  ['2002::', 16, 'ipv6', 'a 6to4 address'],
  ['2001::', 32, 'ipv6', 'a Teredo address'],
  ['2001:db8::', 32, 'ipv6', 'a documentation address'],
  ['fc00::', 7, 'ipv6', 'a private (unique local) address'],
  ['fe80::', 10, 'ipv6', 'a link-local address'],
  ['fec0::', 10, 'ipv6', 'a site-local address'],
  ['ff00::', 8, 'ipv6', 'a multicast address'],
];

export class CallbackUrlPolicy {
  private readonly allowed = new net.BlockList();
  private readonly denied: Array<{ list: net.BlockList; reason: string }>;
  private readonly lookup: HostLookup;

  constructor(options: CallbackUrlPolicyOptions = {}) {
    for (const entry of options.allowedNetworks ?? []) {
      const spec = parseNetwork(entry);
      if (!spec) throw new RangeError(`webhooks.allowedNetworks: ${JSON.stringify(entry)} is not an IP address or CIDR block`);
      this.allowed.addSubnet(spec.address, spec.prefix, spec.family);
    }
    this.denied = DENIED.map(([address, prefix, family, reason]) => {
      const list = new net.BlockList();
      list.addSubnet(address, prefix, family);
      return { list, reason };
    });
    this.lookup = options.lookup ?? ((host) => dnsLookup(host, { all: true, verbatim: true }));
  }

  /**
   * The reason a URL is refused when it is stored, judged without a name
   * lookup: its host is a literal address in a denied range, or `localhost`.
   * Undefined when it may be stored (a name is judged again at send time).
   */
  refusalOfLiteral(url: URL): string | undefined {
    const host = bareHost(url);
    if (net.isIP(host) !== 0) return this.refusalOf(host);
    if (host === 'localhost' || host.endsWith('.localhost')) return this.refusalOf('127.0.0.1');
    return undefined;
  }

  /** Resolves the URL's host and checks every address it has; the post goes to the first. */
  async resolve(url: URL): Promise<CallbackTarget> {
    const host = bareHost(url);
    const addresses = net.isIP(host) !== 0 ? [{ address: host, family: net.isIP(host) }] : await this.lookup(host);
    if (addresses.length === 0) return { ok: false, reason: `${host} resolves to no address` };
    for (const { address } of addresses) {
      const refusal = this.refusalOf(address);
      if (refusal) return { ok: false, reason: `${host} resolves to ${address}: ${refusal}` };
    }
    const first = addresses[0]!;
    return { ok: true, address: first.address, family: first.family === 6 ? 6 : 4 };
  }

  /** Why an address may not be posted to; undefined when it may. */
  refusalOf(address: string): string | undefined {
    const checked = unmapped(address);
    const family = net.isIP(checked) === 6 ? 'ipv6' : 'ipv4';
    if (this.allowed.check(checked, family)) return undefined;
    for (const { list, reason } of this.denied) {
      if (list.check(checked, family)) return `${reason}, not allowed for callbacks (config webhooks.allowedNetworks)`;
    }
    return undefined;
  }
}

/** "192.0.2.1", "192.0.2.0/24", "2001:db8::/32"; undefined when malformed. */
function parseNetwork(entry: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', prefixText, extra] = entry.trim().split('/');
  const version = net.isIP(address);
  if (version === 0 || extra !== undefined) return undefined;
  const max = version === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (prefix > max) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** The URL's host without IPv6 brackets or a trailing dot, lower case. */
function bareHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
}

/**
 * IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) addresses
 * reach the IPv4 address inside: they are judged as that one.
 */
function unmapped(address: string): string {
  if (net.isIP(address) !== 6) return address;
  const words = expandIpv6(address);
  if (!words) return address;
  const mapped = words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff;
  const nat64 = words[0] === 0x64 && words[1] === 0xff9b && words.slice(2, 6).every((w) => w === 0);
  if (!mapped && !nat64) return address;
  return `${words[6]! >> 8}.${words[6]! & 0xff}.${words[7]! >> 8}.${words[7]! & 0xff}`;
}

/** The eight 16-bit words of an IPv6 address (dotted IPv4 tail allowed). */
function expandIpv6(address: string): number[] | undefined {
  let text = address.split('%')[0]!;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number];
    text = text.slice(0, -dotted[1]!.length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((w) => parseInt(w, 16)));
  const first = parse(head);
  const last = tail === undefined ? [] : parse(tail);
  const fill = 8 - first.length - last.length;
  if (fill < 0 || (tail === undefined && fill !== 0)) return undefined;
  const words = [...first, ...new Array<number>(fill).fill(0), ...last];
  return words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff) ? words : undefined;
}
