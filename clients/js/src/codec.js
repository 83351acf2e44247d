// Link-protocol codec (docs/link-protocol.md sections 1, 4, 5, 9, 10, 11): canonical JSON, base64,
// IFMessage validation and wire form, signing inputs, and the frames of a channel message.
// Everything here is pure and synchronous; decompression is handed in by the caller.

export const PROTOCOL_VERSION = 1;
export const CHANNEL_LABEL = 'if-agent-messaging';
export const LANES = 4;
export const PRIORITIES = ['control', 'high', 'normal', 'low'];
export const NORMAL_LANE = 2;
export const MAX_JSON_DEPTH = 100; // an IFMessage; a frame may be 101 deep, a batch 103
// A batch channel message is at most this many bytes, its wrapper included (and never more than
// the channel's max-message-size).
export const MAX_BATCH_BYTES = 64 * 1024;
// The bytes encodeBatch adds around its frames and their commas: {"t":"batch","f":[ and ]}.
export const BATCH_OVERHEAD = 20;
export const MAX_HOPS = 65536;
export const IFMESSAGE_VERSION = '2.1';

const AGENT_ID = /^[A-Za-z0-9._:@-]{1,128}$/;
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z$/;

export function isValidAgentId(id) {
  return typeof id === 'string' && AGENT_ID.test(id);
}

export function laneOf(priority) {
  const lane = PRIORITIES.indexOf(priority ?? 'normal');
  if (lane < 0) throw new TypeError(`unknown priority ${String(priority)}`);
  return lane;
}

export function isUrgentLane(lane) {
  return lane <= 1;
}

// An unsigned integer as the protocol means it, within what JSON.parse reads exactly.
export function isUnsigned(v) {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && !Object.is(v, -0);
}

// ---- canonical JSON (section 5, "Signing input") ----

// Code-point order, which is the order of the UTF-8 bytes.
function compareKeys(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; ) {
    const ca = a.codePointAt(i);
    const cb = b.codePointAt(i);
    if (ca !== cb) return ca < cb ? -1 : 1;
    i += ca > 0xffff ? 2 : 1;
  }
  return a.length - b.length;
}

// A non-integer number as its sender spelled it. JSON.parse turns `1.0` into `1`, but the C++
// agent signs `1.0` as `1.0`; keeping the spelling lets a signature over it verify.
export class RawNumber {
  constructor(lexeme) {
    this.lexeme = lexeme;
  }
  valueOf() {
    return Number(this.lexeme);
  }
  toJSON() {
    return Number(this.lexeme);
  }
}

// `raw.found`: a RawNumber occurs; `raw.depth`: how deep the value nests (a scalar is 0, an
// object or array 1 plus its deepest member).
function sortDeep(value, depth, raw) {
  if (depth > MAX_JSON_DEPTH + 2) throw new RangeError('JSON nested too deep');
  if (value !== null && typeof value === 'object' && !(value instanceof RawNumber) && depth >= raw.depth)
    raw.depth = depth + 1;
  if (Array.isArray(value)) return value.map((v) => sortDeep(v, depth + 1, raw));
  if (value instanceof RawNumber) {
    raw.found = true;
    return value;
  }
  if (value !== null && typeof value === 'object') {
    const out = {};
    for (const k of Object.keys(value).sort(compareKeys)) {
      if (value[k] !== undefined) out[k] = sortDeep(value[k], depth + 1, raw);
    }
    return out;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new TypeError('non-finite number in JSON');
  }
  return value;
}

function writeWithRaw(v) {
  if (v instanceof RawNumber) return v.lexeme;
  if (Array.isArray(v)) return `[${v.map(writeWithRaw).join(',')}]`;
  if (v !== null && typeof v === 'object')
    return `{${Object.keys(v)
      .map((k) => `${JSON.stringify(k)}:${writeWithRaw(v[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

// Compact JSON with keys sorted by their UTF-8 bytes at every depth. JSON.stringify escapes
// exactly what the document asks for and writes every other character as itself.
export function canonicalJson(value) {
  return canonicalJsonWithDepth(value).json;
}

// canonicalJson and how deep the value nests.
export function canonicalJsonWithDepth(value) {
  const raw = { found: false, depth: 0 };
  const sorted = sortDeep(value, 0, raw);
  return { json: raw.found ? writeWithRaw(sorted) : JSON.stringify(sorted), depth: raw.depth };
}

// JSON.parse, except that non-integer numbers become RawNumber (their spelling kept). Falls back
// to plain numbers when the text holds a \u0000 escape, which the marking below relies on.
export function parseJsonKeepingNumbers(text, found = {}) {
  let marked = null;
  let last = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) {
      inString = true;
      continue;
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      let fraction = false;
      for (; j < text.length; j++) {
        const d = text.charCodeAt(j);
        if (d === 0x2e || d === 0x65 || d === 0x45) fraction = true;
        else if (!(d === 0x2b || d === 0x2d || (d >= 0x30 && d <= 0x39))) break;
      }
      if (fraction) {
        marked ??= [];
        marked.push(text.slice(last, i), `"\\u0000${text.slice(i, j)}"`);
        last = j;
      }
      i = j - 1;
    }
  }
  if (!marked || /\\u0000/i.test(text)) return JSON.parse(text);
  marked.push(text.slice(last));
  const value = JSON.parse(marked.join(''));
  found.raw = true;
  return unmark(value);
}

function unmark(v) {
  if (typeof v === 'string') {
    if (v.charCodeAt(0) !== 0) return v;
    const lexeme = v.slice(1);
    // The marked text must still be a JSON number: JSON.parse checks the real grammar.
    return Number.isFinite(JSON.parse(lexeme)) ? new RawNumber(lexeme) : Number.NaN;
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = unmark(v[i]);
  } else if (v !== null && typeof v === 'object') {
    for (const k of Object.keys(v)) v[k] = unmark(v[k]);
  }
  return v;
}

// The value with every RawNumber as a plain number, for the application.
export function plainJson(v) {
  if (v instanceof RawNumber) return Number(v.lexeme);
  if (Array.isArray(v)) return v.map(plainJson);
  if (v !== null && typeof v === 'object') {
    const out = {};
    for (const k of Object.keys(v)) out[k] = plainJson(v[k]);
    return out;
  }
  return v;
}

// How deep `text` nests, counting up to `limit + 1` (strings are skipped).
export function jsonDepth(text, limit) {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

// ---- base64 (canonical, RFC 4648 standard alphabet with padding) ----

export function bytesToBase64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

// The bytes of canonical base64 text of exactly `length` bytes, or null.
export function base64ToBytes(text, length) {
  if (typeof text !== 'string' || text.length % 4 !== 0) return null;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  let raw;
  try {
    raw = atob(text);
  } catch {
    return null;
  }
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  if (length !== undefined && bytes.length !== length) return null;
  if (bytesToBase64(bytes) !== text) return null; // non-zero padding bits and the like
  return bytes;
}

const utf8 = new TextEncoder();
export function utf8Bytes(text) {
  return utf8.encode(text);
}

const NON_ASCII = /[^\x00-\x7f]/;
export function utf8Length(text) {
  return NON_ASCII.test(text) ? utf8.encode(text).length : text.length;
}

// ---- IFMessage (section 5) ----

export function parseTimestamp(ts) {
  if (typeof ts !== 'string') return null;
  const m = TIMESTAMP.exec(ts);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac] = m;
  const ms = frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0;
  const t = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s, ms);
  const back = new Date(t);
  // Reject dates that Date.UTC silently rolls over (February 30th, hour 25).
  if (back.getUTCFullYear() !== +y || back.getUTCMonth() !== +mo - 1 || back.getUTCDate() !== +d)
    return null;
  if (+h > 23 || +mi > 59 || +s > 60) return null;
  return t;
}

export function formatTimestamp(ms) {
  return new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
}

// Checks a parsed `m` against the table of section 5; returns the message with defaults filled
// in (only known fields), or throws Error('IFMessage: …').
export function validateIFMessage(m) {
  const bad = (why) => {
    throw new Error(`IFMessage: ${why}`);
  };
  if (m === null || typeof m !== 'object' || Array.isArray(m)) bad('not an object');
  const nonEmpty = (k) => {
    if (typeof m[k] !== 'string' || m[k] === '') bad(`bad ${k}`);
    return m[k];
  };
  const out = {
    id: nonEmpty('id'),
    timestamp: typeof m.timestamp === 'string' ? m.timestamp : bad('bad timestamp'),
    level: Number.isInteger(m.level) && m.level >= 1 && m.level <= 10 ? m.level : bad('bad level'),
    source: nonEmpty('source'),
    destination: nonEmpty('destination'),
    version: m.version === IFMESSAGE_VERSION ? m.version : bad('bad version'),
    payload: 'payload' in m ? m.payload : bad('no payload'),
    sequence_num: 0,
    trace_id: '',
    priority: 'normal',
    incarnation: 0,
  };
  if ('sequence_num' in m) {
    if (!isUnsigned(m.sequence_num)) bad('bad sequence_num');
    out.sequence_num = m.sequence_num;
  }
  if ('trace_id' in m) {
    if (typeof m.trace_id !== 'string') bad('bad trace_id');
    out.trace_id = m.trace_id;
  }
  if ('priority' in m) {
    if (!PRIORITIES.includes(m.priority)) bad('bad priority');
    out.priority = m.priority;
  }
  if ('incarnation' in m) {
    if (!isUnsigned(m.incarnation)) bad('bad incarnation');
    out.incarnation = m.incarnation;
  }
  if ('signature' in m) {
    if (typeof m.signature !== 'string') bad('bad signature');
    out.signature = m.signature;
  }
  return out;
}

// The payload's canonical JSON and nesting depth, kept on a message that is signed and sent, so
// that the signing input and the wire form share one serialization. The payload must not change
// afterwards.
const PREPARED = Symbol('ifmesh.canonicalPayload');

export function preparePayload(m) {
  let p = m[PREPARED];
  if (!p) {
    p = canonicalJsonWithDepth(m.payload);
    Object.defineProperty(m, PREPARED, { value: p, configurable: true });
  }
  return p;
}

function payloadJson(m) {
  return (m[PREPARED] ?? canonicalJsonWithDepth(m.payload)).json ?? 'null';
}

// How deep an IFMessage nests (the message object is level 1).
export function ifMessageDepth(m) {
  return 1 + (m[PREPARED] ?? canonicalJsonWithDepth(m.payload)).depth;
}

const str = JSON.stringify;
const num = (v) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError('IFMessage: bad number field');
  return String(v);
};

// The wire form: compact, keys in byte order, optional fields omitted at their defaults. Written
// field by field in byte order: the same bytes as canonicalJson of the object.
export function serializeIFMessage(m) {
  let o = `{"destination":${str(m.destination)},"id":${str(m.id)}`;
  if (m.incarnation) o += `,"incarnation":${num(m.incarnation)}`;
  o += `,"level":${num(m.level)},"payload":${payloadJson(m)}`;
  if (m.priority && m.priority !== 'normal') o += `,"priority":${str(m.priority)}`;
  if (m.sequence_num) o += `,"sequence_num":${num(m.sequence_num)}`;
  if (m.signature) o += `,"signature":${str(m.signature)}`;
  o += `,"source":${str(m.source)},"timestamp":${str(m.timestamp)}`;
  if (m.trace_id) o += `,"trace_id":${str(m.trace_id)}`;
  return `${o},"version":${str(m.version)}}`;
}

// canonicalJson of ["ifmesh-msg-v1", id, timestamp, level, source, destination, version,
// sequence_num, priority, trace_id, incarnation, payload], written element by element.
export function messageSigningInput(m) {
  return (
    `["ifmesh-msg-v1",${str(m.id)},${str(m.timestamp)},${num(m.level)},${str(m.source)},` +
    `${str(m.destination)},${str(m.version)},${num(m.sequence_num ?? 0)},` +
    `${str(m.priority ?? 'normal')},${str(m.trace_id ?? '')},${num(m.incarnation ?? 0)},` +
    `${payloadJson(m)}]`
  );
}

export function helloSigningInput(senderId, incarnation, fingerprint, receiverId) {
  return canonicalJson(['ifmesh-hello-v1', senderId, incarnation, fingerprint, receiverId]);
}

// The `a=fingerprint` of an SDP as the hello carries it: upper-case hex pairs joined by ':'.
export function sdpFingerprint(sdp) {
  const m = /^a=fingerprint:\S+ ([0-9A-Fa-f:]+)\s*$/m.exec(sdp ?? '');
  return m ? m[1].toUpperCase() : '';
}

// ---- frames (section 4); byte for byte what the C++ agent writes ----

export function encodeHello(h) {
  const o = {
    t: 'hello',
    v: PROTOCOL_VERSION,
    recv: h.lanes[NORMAL_LANE],
    lanes: h.lanes.slice(),
    inc: h.inc,
    fp: h.fp,
    sig: h.sig,
  };
  if (h.peer !== undefined) o.peer = h.peer;
  if (h.readsZstd) o.compress = ['zstd'];
  return canonicalJson(o); // keys in byte order, as the C++ agent writes them
}

export function encodeAck(seq, lane) {
  return lane === NORMAL_LANE ? `{"seq":${seq},"t":"ack"}` : `{"l":${lane},"seq":${seq},"t":"ack"}`;
}

// `messageJson` is serializeIFMessage's output. `ackRequested`: somebody waits for the
// acknowledgement, so the frame asks the peer for a prompt one ("r":1, section 7).
export function encodeMsg(seq, hops, lane, ack, messageJson, ackRequested = false) {
  let f = `{"t":"msg","s":${seq},"h":${hops}`;
  if (lane !== NORMAL_LANE) f += `,"l":${lane}`;
  if (ack) f += `,"a":${ack}`;
  if (ackRequested) f += ',"r":1';
  return `${f},"m":${messageJson}}`;
}

// The size a msg frame can reach with the longest link fields (20-digit `s` and `a`, and `r`).
export function maxMsgFrameBytes(hops, messageJson) {
  const bytes = utf8Length(messageJson);
  return bytes + encodeMsg('18446744073709551615', hops, 3, '18446744073709551615', '', true).length;
}

// Any unsigned integer below 2^64, as the C++ decoder takes `r`: only zero or not matters, so
// values above 2^53 (which JSON.parse rounds) are still told apart from zero exactly.
function isUnsigned64(v) {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && !Object.is(v, -0) && v < 2 ** 64;
}

export function encodeBatch(frames) {
  return `{"t":"batch","f":[${frames.join(',')}]}`;
}

function laneField(f) {
  if (!('l' in f)) return NORMAL_LANE;
  return isUnsigned(f.l) && f.l < LANES ? f.l : null;
}

function decodeHello(f) {
  const h = { type: 'hello', version: 1, lanes: [0, 0, 0, 0], inc: 0, peer: undefined };
  if ('v' in f) {
    if (!isUnsigned(f.v)) return malformed('malformed hello: bad version');
    h.version = f.v;
  }
  if (!isUnsigned(f.recv)) return malformed('malformed hello: no recv');
  h.lanes[NORMAL_LANE] = f.recv;
  if ('lanes' in f) {
    if (!Array.isArray(f.lanes) || f.lanes.length !== LANES || !f.lanes.every(isUnsigned))
      return malformed('malformed hello: bad lanes');
    h.lanes = f.lanes.slice();
  }
  if ('inc' in f) {
    if (!isUnsigned(f.inc)) return malformed('malformed hello: bad inc');
    h.inc = f.inc;
  }
  if ('peer' in f) {
    if (!isUnsigned(f.peer)) return malformed('malformed hello: bad peer');
    h.peer = f.peer;
  }
  h.readsZstd = false;
  if ('compress' in f) {
    if (!Array.isArray(f.compress) || !f.compress.every((c) => typeof c === 'string'))
      return malformed('malformed hello: bad compress');
    h.readsZstd = f.compress.includes('zstd');
  }
  h.fp = typeof f.fp === 'string' ? f.fp : undefined;
  h.sig = typeof f.sig === 'string' ? f.sig : undefined;
  return h;
}

function decodeMsg(f, raw) {
  if (!isUnsigned(f.s)) return malformed('frame without link sequence');
  const lane = laneField(f);
  if (lane === null) return malformed('bad priority lane');
  if (!('m' in f)) return malformed('msg without message');
  let hops = 0;
  if ('h' in f) {
    if (!isUnsigned(f.h)) return malformed('bad hop count');
    hops = Math.min(f.h, MAX_HOPS);
  }
  let ack = 0;
  if ('a' in f) {
    if (!isUnsigned(f.a)) return malformed('bad ack');
    ack = f.a;
  }
  let ackRequested = false;
  if ('r' in f) {
    if (!isUnsigned64(f.r)) return malformed('bad ack request');
    ackRequested = f.r !== 0;
  }
  let message;
  try {
    message = validateIFMessage(f.m);
    // Delivered with plain numbers once its signature is checked (see RawNumber).
    if (raw) Object.defineProperty(message, 'rawNumbers', { value: true });
  } catch (e) {
    return malformed(e.message, typeof f.m?.id === 'string' ? f.m.id : '');
  }
  return { type: 'msg', seq: f.s, hops, lane, ack, ackRequested, message };
}

function decodeAck(f) {
  if (!isUnsigned(f.seq)) return malformed('malformed ack');
  const lane = laneField(f);
  if (lane === null) return malformed('bad priority lane');
  return { type: 'ack', seq: f.seq, lane };
}

function malformed(reason, messageId = '') {
  return { type: 'malformed', reason, messageId };
}

function decodeOne(f, raw) {
  if (f === null || typeof f !== 'object' || Array.isArray(f) || typeof f.t !== 'string')
    return malformed('malformed frame');
  switch (f.t) {
    case 'hello':
      return decodeHello(f);
    case 'msg':
      return decodeMsg(f, raw);
    case 'ack':
      return decodeAck(f);
    default:
      return malformed(`unknown frame type ${f.t.slice(0, 64)}`);
  }
}

// Every JSON number with a fraction or an exponent starts the text or follows a key's `":`, a `,`
// or a `[` (whitespace allowed between), and has a digit right before its `.`, `e` or `E`. Text
// without this pattern has none; text with it (also inside a string) takes the slower path that
// keeps their spelling.
const MAYBE_FRACTION = /(?:^|"\s*:|[,[])\s*-?\d+[.eE]/;

// How deep a parsed JSON value nests, counting up to `limit + 1`.
function valueDepth(v, depth, limit) {
  if (v === null || typeof v !== 'object') return depth;
  if (depth + 1 > limit) return depth + 1;
  let max = depth + 1;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const d = valueDepth(v[i], depth + 1, limit);
      if (d > max && (max = d) > limit) return max;
    }
  } else {
    for (const k in v) {
      const d = valueDepth(v[k], depth + 1, limit);
      if (d > max && (max = d) > limit) return max;
    }
  }
  return max;
}

// A text channel message to its frames (a batch gives several), each either a frame or
// {type: 'malformed', reason}.
export function decodeText(text) {
  if (typeof text !== 'string') return [malformed('malformed frame')];
  const found = { raw: false };
  let parsed;
  let depth;
  if (!MAYBE_FRACTION.test(text)) {
    // No number with a fraction or an exponent: plain JSON.parse (which does not recurse, so
    // deep text is safe to parse), then the depth of what it gave.
    try {
      parsed = JSON.parse(text);
    } catch {
      return [malformed(jsonDepth(text, MAX_JSON_DEPTH + 3) > MAX_JSON_DEPTH + 3 ? 'frame nested too deep' : 'malformed frame')];
    }
    depth = valueDepth(parsed, 0, MAX_JSON_DEPTH + 3);
    if (depth > MAX_JSON_DEPTH + 3) return [malformed('frame nested too deep')];
  } else {
    depth = jsonDepth(text, MAX_JSON_DEPTH + 3);
    if (depth > MAX_JSON_DEPTH + 3) return [malformed('frame nested too deep')];
    try {
      parsed = parseJsonKeepingNumbers(text, found);
    } catch {
      return [malformed('malformed frame')];
    }
  }
  if (parsed !== null && typeof parsed === 'object' && parsed.t === 'batch') {
    if (!Array.isArray(parsed.f)) return [malformed('malformed batch')];
    return parsed.f.map((inner) =>
      inner !== null && typeof inner === 'object' && inner.t === 'batch'
        ? malformed('nested batch')
        : decodeOne(inner, found.raw),
    );
  }
  if (depth > MAX_JSON_DEPTH + 1) return [malformed('frame nested too deep')];
  return [decodeOne(parsed, found.raw)];
}

const IFZ1 = [0x49, 0x46, 0x5a, 0x31];

// Reads the Frame_Content_Size of a zstd frame header (RFC 8878 3.1.1.1), or null.
export function zstdContentSize(bytes) {
  if (bytes.length < 6) return null;
  if (bytes[0] !== 0x28 || bytes[1] !== 0xb5 || bytes[2] !== 0x2f || bytes[3] !== 0xfd) return null;
  const fhd = bytes[4];
  const fcsFlag = fhd >> 6;
  const singleSegment = (fhd >> 5) & 1;
  const dictFlag = fhd & 3;
  if (dictFlag !== 0) return null; // no dictionary allowed
  if (fcsFlag === 0 && !singleSegment) return null; // size not recorded
  let p = 5 + (singleSegment ? 0 : 1);
  const fcsBytes = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag];
  if (bytes.length < p + fcsBytes) return null;
  let size = 0;
  for (let i = fcsBytes - 1; i >= 0; i--) size = size * 256 + bytes[p + i];
  if (fcsBytes === 2) size += 256;
  return size;
}

// A binary channel message: "IFZ1" + one zstd frame. `decompress(bytes, size)` returns the
// decompressed bytes (or throws); without one, compressed frames are rejected.
export function decodeBinary(data, maxTextBytes, decompress) {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  if (bytes.length < 4 || IFZ1.some((b, i) => bytes[i] !== b))
    return [malformed('compressed frame: unknown binary frame')];
  const z = bytes.subarray(4);
  const size = zstdContentSize(z);
  if (size === null) return [malformed('compressed frame: not a zstd frame with its content size')];
  if (size > maxTextBytes)
    return [malformed(`compressed frame: original size ${size} exceeds ${maxTextBytes}`)];
  if (!decompress) return [malformed('compressed frame: no zstd decoder')];
  let out;
  try {
    out = decompress(z, size);
  } catch (e) {
    return [malformed(`compressed frame: ${e.message}`)];
  }
  if (!out || out.length !== size) return [malformed('compressed frame: size mismatch')];
  let text;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(out);
  } catch {
    return [malformed('malformed frame')];
  }
  return decodeText(text);
}
