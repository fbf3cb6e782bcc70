/**
 * SIP trunks: which sources may send us calls (address / CIDR lists, first
 * matching trunk wins), and number normalisation for DIDs and dialed numbers.
 */
import net from 'node:net';
import type { SipTrunk } from './SipTypes.js';
import { normaliseAddress } from './transport/SipTransportBase.js';

/** An address entry of a trunk: an IP address or a CIDR block. */
export interface AddressSpec {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** Parse "192.0.2.1", "192.0.2.0/24", "2001:db8::/32"; undefined when malformed. */
export function parseAddressSpec(spec: string): AddressSpec | undefined {
  const text = spec.trim();
  const slash = text.indexOf('/');
  const address = slash >= 0 ? text.slice(0, slash) : text;
  const version = net.isIP(address);
  if (version === 0) return undefined;
  const max = version === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return undefined;
    prefix = Number(p);
    if (prefix > max) return undefined;
  }
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

interface CompiledTrunk {
  trunk: SipTrunk;
  list: net.BlockList;
}

/** Source-address admission over an ordered list of trunks. */
export class TrunkTable {
  private readonly compiled: CompiledTrunk[];
  private readonly byName = new Map<string, SipTrunk>();

  constructor(readonly trunks: readonly SipTrunk[]) {
    this.compiled = trunks.map((trunk) => {
      const list = new net.BlockList();
      for (const entry of trunk.inbound.addresses) {
        const spec = parseAddressSpec(entry);
        if (!spec) throw new RangeError(`trunk ${trunk.name}: bad address ${JSON.stringify(entry)}`);
        list.addSubnet(spec.address, spec.prefix, spec.family);
      }
      if (this.byName.has(trunk.name)) throw new RangeError(`duplicate trunk name ${trunk.name}`);
      this.byName.set(trunk.name, trunk);
      return { trunk, list };
    });
  }

  /** The first trunk whose inbound addresses contain the source, if any. */
  match(sourceAddress: string): SipTrunk | undefined {
    // Unmapped so that 127.0.0.1 matches 127.0.0.0/8 whatever the socket family.
    const address = normaliseAddress(sourceAddress);
    const version = net.isIP(address);
    if (version === 0) return undefined;
    const family = version === 4 ? 'ipv4' : 'ipv6';
    for (const c of this.compiled) {
      if (c.list.check(address, family)) return c.trunk;
    }
    return undefined;
  }

  get(name: string): SipTrunk | undefined {
    return this.byName.get(name);
  }
}

/**
 * A dialed number or DID in E.164 with a leading '+', or undefined when the
 * text is not a phone number. Visual separators (space, '-', '.', '(', ')')
 * are dropped, a leading "00" counts as the international prefix, and a
 * number without '+' is taken as already international (trunks send E.164
 * with or without the plus).
 */
export function normaliseE164(number: string): string | undefined {
  let n = number.trim().replace(/[\s\-.()]/g, '');
  if (n.startsWith('+')) n = n.slice(1);
  else if (n.startsWith('00')) n = n.slice(2);
  if (!/^\d{3,15}$/.test(n)) return undefined;
  return `+${n}`;
}

/** A number written the way a trunk wants it: E.164 with or without the plus. */
export function formatForTrunk(number: string, format: 'e164' | 'e164-plus'): string | undefined {
  const e164 = normaliseE164(number);
  if (!e164) return undefined;
  return format === 'e164' ? e164.slice(1) : e164;
}
