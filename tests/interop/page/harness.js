// In-page side of the Chromium interop test: wraps clients/web/ifmesh.js in small async steps
// that the Node test calls through page.evaluate. Channels are handed to Node as integer keys;
// payloads are built and compared here so large messages never cross the DevTools protocol.
import { IfmeshClient, maxMessageSizeOf } from '/ifmesh.js';

const STEP_TIMEOUT_MS = 15000;
const channels = new Map(); // key -> { channel, peer, inbox, closed }
const incoming = []; // { key, label, taken } for channels the remote side opened
const events = { joined: [], left: [], errors: [], warnings: [], peers: [] };
let nextKey = 1;
let client = null;

// Candidate lines each connection trickled out and received, to check trickle works both ways.
const trickled = new WeakMap();
function watchCandidates(peer) {
  const seen = { local: [], remote: [] };
  trickled.set(peer, seen);
  peer.on('candidate', (c) => seen.local.push(c ? c.candidate : ''));
  peer.on('remote-candidate', (c) => seen.remote.push(c.candidate ?? ''));
}

// The transport's selected candidate pair, from getStats().
async function selectedPair(pc) {
  const stats = await pc.getStats();
  const all = [...stats.values()];
  const transport = all.find((s) => s.type === 'transport');
  const pair = stats.get(transport?.selectedCandidatePairId);
  if (!pair) return null;
  const side = (id) => {
    const c = stats.get(id);
    return { type: c.candidateType, address: c.address, protocol: c.protocol };
  };
  return { local: side(pair.localCandidateId), remote: side(pair.remoteCandidateId) };
}

function track(channel, peer) {
  const key = nextKey++;
  const entry = { channel, peer, inbox: [], closed: false };
  channel.binaryType = 'arraybuffer';
  channel.addEventListener('message', (e) => entry.inbox.push(e.data));
  channel.addEventListener('close', () => (entry.closed = true));
  channels.set(key, entry);
  return key;
}

function get(key) {
  const entry = channels.get(key);
  if (!entry) throw new Error(`no channel ${key}`);
  return entry;
}

// Polls `probe` until it returns something other than undefined (simple and deterministic).
async function until(probe, what, timeoutMs = STEP_TIMEOUT_MS) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function waitOpen(key) {
  const { channel } = get(key);
  await until(() => (channel.readyState === 'open' ? true : undefined), `'${channel.label}' open`);
  return key;
}

function textPayload(size) {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return alphabet.repeat(Math.ceil(size / alphabet.length)).slice(0, size);
}

function binaryPayload(size) {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + 7) & 0xff;
  return bytes;
}

function sameBytes(a, b) {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

function describe(data) {
  return typeof data === 'string'
    ? { kind: 'text', size: new TextEncoder().encode(data).byteLength }
    : { kind: 'binary', size: data.byteLength };
}

async function next(key, what = 'a message') {
  const entry = get(key);
  return until(() => (entry.inbox.length ? entry.inbox.shift() : undefined), what);
}

export const harness = {
  async register(url, agentId) {
    client = new IfmeshClient({ url, agentId });
    client.on('joined', (id) => events.joined.push(id));
    client.on('left', (id) => events.left.push(id));
    client.on('error', (err) => events.errors.push(err.code));
    client.on('warning', (err) => events.warnings.push(err.message));
    client.on('peer', (peer) => {
      events.peers.push({ from: peer.id, sid: peer.sid });
      watchCandidates(peer);
    });
    client.onChannel((channel, peer) => {
      incoming.push({ key: track(channel, peer), label: channel.label, taken: false });
    });
    return client.register();
  },

  events() {
    return events;
  },

  // Another client in the same page: joins, then leaves, so the first one sees both.
  async joinAndLeave(url, agentId) {
    const other = new IfmeshClient({ url, agentId });
    const directory = await other.register();
    await until(() => (events.joined.includes(agentId) ? true : undefined), `joined ${agentId}`);
    other.close();
    await until(() => (events.left.includes(agentId) ? true : undefined), `left ${agentId}`);
    return directory;
  },

  // Registering an id that is taken must be refused with duplicate_id.
  async registerDuplicate(url, agentId) {
    const dup = new IfmeshClient({ url, agentId });
    try {
      await dup.register();
      return 'registered';
    } catch (err) {
      return err.code;
    } finally {
      dup.close();
    }
  },

  async relayToUnknown(peerId) {
    const before = events.errors.length;
    client.relay(peerId, 'offer', { sid: 1, offer: { type: 'offer', sdp: '' } });
    return until(() => (events.errors.length > before ? events.errors.at(-1) : undefined), 'error');
  },

  // We offer: a connection to peerId with a first channel `label`. Resolves once it is open.
  async connect(peerId, label) {
    const peer = client.connect(peerId, { label });
    watchCandidates(peer);
    return waitOpen(track(peer.channel, peer));
  },

  // A channel the remote side opened with this label (not handed out before), once open.
  async incoming(label) {
    const found = await until(() => incoming.find((c) => !c.taken && c.label === label), label);
    found.taken = true;
    return waitOpen(found.key);
  },

  // We open another channel on the connection that channel `key` belongs to.
  async createChannel(key, label) {
    const { peer } = get(key);
    return waitOpen(track(peer.createChannel(label), peer));
  },

  // Both sides' trickle finished (end-of-candidates sent and received): the lines exchanged.
  async trickleDone(key) {
    const seen = trickled.get(get(key).peer);
    const done = () => seen.local.includes('') && seen.remote.includes('');
    await until(() => (done() ? true : undefined), 'end-of-candidates both ways');
    return seen;
  },

  async info(key) {
    const { peer, channel } = get(key);
    const { pc } = peer;
    return {
      pair: await selectedPair(pc),
      initiator: peer.initiator,
      localType: pc.localDescription?.type,
      localMax: maxMessageSizeOf(pc.localDescription?.sdp),
      remoteMax: maxMessageSizeOf(pc.remoteDescription?.sdp),
      sctpMax: pc.sctp?.maxMessageSize,
      state: pc.connectionState,
      label: channel.label,
      id: channel.id,
      readyState: channel.readyState,
    };
  },

  // Sends a patterned message and waits for the echo: what came back and whether it matches.
  async roundTrip(key, kind, size) {
    const { channel } = get(key);
    const sent = kind === 'text' ? textPayload(size) : binaryPayload(size);
    channel.send(sent);
    const got = await next(key, `echo of ${kind} ${size}`);
    const equal =
      kind === 'text'
        ? got === sent
        : typeof got !== 'string' && sameBytes(new Uint8Array(got), sent);
    return { ...describe(got), equal };
  },

  async echoText(key, text) {
    get(key).channel.send(text);
    return next(key, `echo of '${text}'`);
  },

  send(key, text) {
    get(key).channel.send(text);
  },

  // A text command to the C++ peer; resolves with its text reply.
  async command(key, text) {
    get(key).channel.send(text);
    const reply = await next(key, `reply to '${text}'`);
    return typeof reply === 'string' ? reply : `<binary ${reply.byteLength}>`;
  },

  async nextText(key) {
    const data = await next(key);
    return typeof data === 'string' ? data : `<binary ${data.byteLength}>`;
  },

  // send() of a message above the limit: the browser must refuse it.
  trySend(key, size) {
    try {
      get(key).channel.send(binaryPayload(size));
      return 'sent';
    } catch (err) {
      return err.name;
    }
  },

  close(key) {
    get(key).channel.close();
  },

  async waitClosed(key) {
    const entry = get(key);
    await until(() => (entry.closed ? true : undefined), `'${entry.channel.label}' to close`);
    return entry.channel.readyState;
  },

  closePeer(key) {
    get(key).peer.close();
  },
};

window.harness = harness;
window.harnessReady = true;
