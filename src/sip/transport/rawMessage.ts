/**
 * Minimal, defensive inspection of raw SIP text, done before SIP.js sees a
 * message (validation, received/rport, error responses) and after it wrote
 * one (where to send it). Nothing here throws on bad input.
 */

export interface RawHeader {
  /** Lower-case long form of the name (compact forms expanded). */
  name: string;
  value: string;
}

export interface RawHead {
  startLine: string;
  headers: RawHeader[];
  /** Offset of the body in the text (just after the empty line). */
  bodyOffset: number;
}

export type StartLine =
  | { kind: 'request'; method: string; uri: string }
  | { kind: 'response'; status: number; reason: string };

const COMPACT: Record<string, string> = {
  v: 'via',
  f: 'from',
  t: 'to',
  i: 'call-id',
  m: 'contact',
  l: 'content-length',
  c: 'content-type',
  k: 'supported',
  s: 'subject',
  e: 'content-encoding',
  o: 'event',
  r: 'refer-to',
};

export function canonicalName(name: string): string {
  const n = name.trim().toLowerCase();
  return COMPACT[n] ?? n;
}

/** Split the head of a SIP message into start line and (unfolded) headers. */
export function parseHead(text: string): RawHead | undefined {
  const end = text.indexOf('\r\n\r\n');
  const firstEol = text.indexOf('\r\n');
  if (firstEol <= 0) return undefined;
  const headText = end >= 0 ? text.slice(0, end) : text.replace(/\r\n$/, '');
  const lines = headText.split('\r\n');
  const startLine = lines.shift() ?? '';
  const headers: RawHeader[] = [];
  for (const line of lines) {
    if (/^[ \t]/.test(line) && headers.length > 0) {
      headers[headers.length - 1]!.value += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers.push({ name: canonicalName(line.slice(0, colon)), value: line.slice(colon + 1).trim() });
  }
  return { startLine, headers, bodyOffset: end >= 0 ? end + 4 : text.length };
}

const TOKEN = "[A-Za-z0-9\\-.!%*_+`'~]+";
const REQUEST_RE = new RegExp(`^(${TOKEN}) (\\S+) SIP/2\\.0$`);
const RESPONSE_RE = /^SIP\/2\.0 (\d{3}) ?(.*)$/;

export function classifyStartLine(line: string): StartLine | undefined {
  const req = REQUEST_RE.exec(line);
  if (req) return { kind: 'request', method: req[1]!, uri: req[2]! };
  const res = RESPONSE_RE.exec(line);
  if (res) {
    const status = Number(res[1]);
    if (status >= 100 && status <= 699) return { kind: 'response', status, reason: res[2] ?? '' };
  }
  return undefined;
}

export function getHeader(head: RawHead, name: string): string | undefined {
  const n = canonicalName(name);
  return head.headers.find((h) => h.name === n)?.value;
}

export function getHeaders(head: RawHead, name: string): string[] {
  const n = canonicalName(name);
  return head.headers.filter((h) => h.name === n).map((h) => h.value);
}

export interface ViaInfo {
  transport: string;
  host: string;
  port: number | undefined;
  params: Map<string, string | undefined>;
}

/** Split at the first comma that is outside quotes and angle brackets. */
function firstListElement(value: string): string {
  let quoted = false;
  let angle = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === '"' && value[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && ch === '<') angle++;
    else if (!quoted && ch === '>') angle = Math.max(0, angle - 1);
    else if (!quoted && angle === 0 && ch === ',') return value.slice(0, i);
  }
  return value;
}

const VIA_RE = /^SIP\s*\/\s*2\.0\s*\/\s*([A-Za-z]+)\s+(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-.]+)(?:\s*:\s*(\d{1,5}))?\s*((?:;.*)?)$/;

export function parseVia(value: string): ViaInfo | undefined {
  const m = VIA_RE.exec(firstListElement(value).trim());
  if (!m) return undefined;
  const params = new Map<string, string | undefined>();
  for (const p of (m[4] ?? '').split(';')) {
    const t = p.trim();
    if (!t) continue;
    const eq = t.indexOf('=');
    if (eq < 0) params.set(t.toLowerCase(), undefined);
    else params.set(t.slice(0, eq).trim().toLowerCase(), t.slice(eq + 1).trim());
  }
  const port = m[3] !== undefined ? Number(m[3]) : undefined;
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  return { transport: m[1]!.toUpperCase(), host: stripBrackets(m[2]!), port, params };
}

export function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

export function topVia(head: RawHead): ViaInfo | undefined {
  const v = getHeader(head, 'via');
  return v === undefined ? undefined : parseVia(v);
}

/** Where a response must go: received/rport of the top Via, else its sent-by (RFC 3261 18.2.2, RFC 3581). */
export function responseDestination(via: ViaInfo): { host: string; port: number } {
  const received = via.params.get('received');
  const rport = via.params.get('rport');
  const host = received && received.length > 0 ? received : via.host;
  const rp = rport !== undefined && /^\d+$/.test(rport) ? Number(rport) : undefined;
  return { host: stripBrackets(host), port: rp ?? via.port ?? 5060 };
}

/** Host/port of a SIP URI (the part between '@' or 'sip:' and ';' / '>' / '?'). */
export function uriHostPort(uri: string): { host: string; port: number | undefined; transport: string | undefined } | undefined {
  const inner = /<([^>]*)>/.exec(uri)?.[1] ?? uri.trim();
  const m = /^sips?:(?:[^@]*@)?(\[[0-9A-Fa-f:.]+\]|[^:;?>]+)(?::(\d{1,5}))?([^?>]*)/i.exec(inner);
  if (!m) return undefined;
  const tp = /;transport=([A-Za-z]+)/i.exec(m[3] ?? '')?.[1];
  return { host: stripBrackets(m[1]!), port: m[2] !== undefined ? Number(m[2]) : undefined, transport: tp?.toLowerCase() };
}

/**
 * Where a request must go: the first Route (loose routing), else the
 * Request-URI.
 */
export function requestDestination(head: RawHead, start: { uri: string }): { host: string; port: number } | undefined {
  const route = getHeader(head, 'route');
  const target = route !== undefined ? uriHostPort(firstListElement(route)) : uriHostPort(start.uri);
  if (!target) return undefined;
  return { host: target.host, port: target.port ?? 5060 };
}

/**
 * Add received= and rport= (RFC 3581) to the top Via of a request. The
 * first Via header line is rewritten in place; the rest of the text is kept.
 */
export function addReceivedRport(text: string, address: string, port: number): string {
  const lines = text.split('\r\n');
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') break;
    const colon = line.indexOf(':');
    if (colon <= 0 || /^[ \t]/.test(line)) continue;
    if (canonicalName(line.slice(0, colon)) !== 'via') continue;
    const value = line.slice(colon + 1);
    const first = firstListElement(value);
    const rest = value.slice(first.length);
    let via = first
      .replace(/;\s*received\s*=\s*[^;,\s]*/gi, '')
      .replace(/;\s*rport\s*(=\s*[^;,\s]*)?/gi, '')
      .replace(/\s+$/, '');
    via += `;received=${address};rport=${port}`;
    lines[i] = line.slice(0, colon + 1) + via + rest;
    return lines.join('\r\n');
  }
  return text;
}

export const MAX_CSEQ = 2 ** 31 - 1;

/**
 * Check a request for what every request needs. Returns the reason phrase of
 * the 400 to answer, or undefined when the request is well-formed enough to
 * hand to SIP.js.
 */
export function validateRequest(head: RawHead, method: string, bodyBytes: number, datagram: boolean): string | undefined {
  const vias = getHeaders(head, 'via');
  if (vias.length === 0) return 'Missing Via';
  const via = parseVia(vias[0]!);
  if (!via) return 'Malformed Via';
  if (!via.params.get('branch')) return 'Missing Via branch';
  const from = getHeader(head, 'from');
  if (from === undefined) return 'Missing From';
  if (!/(sips?|tel):/i.test(from)) return 'Malformed From';
  const to = getHeader(head, 'to');
  if (to === undefined) return 'Missing To';
  if (!/(sips?|tel):/i.test(to)) return 'Malformed To';
  const callId = getHeader(head, 'call-id');
  if (callId === undefined || callId.length === 0) return 'Missing Call-ID';
  if (/\s/.test(callId)) return 'Malformed Call-ID';
  const cseq = getHeader(head, 'cseq');
  if (cseq === undefined) return 'Missing CSeq';
  const cm = /^(\d{1,10})\s+(\S+)$/.exec(cseq);
  if (!cm) return 'Malformed CSeq';
  if (Number(cm[1]) > MAX_CSEQ) return 'Bad CSeq number';
  if (cm[2] !== method) return 'CSeq method does not match';
  const lengths = getHeaders(head, 'content-length');
  if (lengths.length > 1) return 'Multiple Content-Length';
  if (lengths.length === 1) {
    const cl = lengths[0]!;
    if (!/^\d{1,10}$/.test(cl)) return 'Bad Content-Length';
    if (datagram && Number(cl) > bodyBytes) return 'Content-Length exceeds body';
  }
  const mf = getHeader(head, 'max-forwards');
  if (mf !== undefined && !/^\d{1,3}$/.test(mf)) return 'Bad Max-Forwards';
  return undefined;
}

/** Check a response for what transaction matching needs. */
export function validateResponse(head: RawHead): boolean {
  const via = topVia(head);
  if (!via || !via.params.get('branch')) return false;
  if (getHeader(head, 'from') === undefined || getHeader(head, 'to') === undefined) return false;
  if (!getHeader(head, 'call-id')) return false;
  const cseq = getHeader(head, 'cseq');
  if (!cseq || !/^\d{1,10}\s+\S+$/.test(cseq)) return false;
  const cl = getHeader(head, 'content-length');
  if (cl !== undefined && !/^\d{1,10}$/.test(cl)) return false;
  return true;
}

function randomTag(): string {
  return Math.random().toString(36).slice(2, 12);
}

/**
 * A stateless error response built from whatever headers the request has
 * (RFC 3261 8.2.6). Undefined when there is no Via to answer along.
 */
export function buildErrorResponse(
  head: RawHead,
  status: number,
  reason: string,
  extraHeaders: string[] = [],
): string | undefined {
  const vias = getHeaders(head, 'via');
  if (vias.length === 0) return undefined;
  const safeReason = reason.replace(/[\r\n]+/g, ' ');
  const out: string[] = [`SIP/2.0 ${status} ${safeReason}`];
  for (const v of vias) out.push(`Via: ${v}`);
  const from = getHeader(head, 'from');
  if (from !== undefined) out.push(`From: ${from}`);
  const to = getHeader(head, 'to');
  if (to !== undefined) out.push(/;\s*tag=/i.test(to) ? `To: ${to}` : `To: ${to};tag=${randomTag()}`);
  const callId = getHeader(head, 'call-id');
  if (callId !== undefined) out.push(`Call-ID: ${callId}`);
  const cseq = getHeader(head, 'cseq');
  if (cseq !== undefined) out.push(`CSeq: ${cseq}`);
  out.push(...extraHeaders);
  out.push('Content-Length: 0', '', '');
  return out.join('\r\n');
}

/** CSeq method of a message (for transaction keys). */
export function cseqMethod(head: RawHead): string | undefined {
  const cseq = getHeader(head, 'cseq');
  return cseq ? /^\d+\s+(\S+)/.exec(cseq)?.[1] : undefined;
}

/** Content-Length of the head, if present and numeric. */
export function contentLength(head: RawHead): number | undefined {
  const cl = getHeader(head, 'content-length');
  return cl !== undefined && /^\d+$/.test(cl) ? Number(cl) : undefined;
}
