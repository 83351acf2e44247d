// The agent: registers with the signaling server, links to every other agent (full mesh), sends
// signed IFMessages and checks the ones it receives (docs/link-protocol.md, docs/identity.md).
// Environment-neutral: RTCPeerConnection and WebSocket come from the options or globalThis.
import {
  IFMESSAGE_VERSION,
  formatTimestamp,
  isValidAgentId,
  laneOf,
  parseTimestamp,
  plainJson,
  preparePayload,
} from './codec.js';
import { Emitter } from './emitter.js';
import { Identity, KeyDirectory, verifyMessageSignature } from './identity.js';
import { HEALING_DEFAULTS, PeerLink, PeerState, randomWireId } from './peer_link.js';
import { QualityController } from './quality.js';
import { ReplayGuard } from './replay_guard.js';
import { StateStore } from './state_store.js';
import { SignalingClient } from './signaling.js';

export { PeerState };

const RELAY_TYPES = new Set(['offer', 'answer', 'ice-candidate', 'connect-request', 'bye']);

const isTurnUrl = (url) => /^turns?:/.test(url);

function randomUuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export class Agent extends Emitter {
  // options: {id, signalingUrl, token?, keys? (Identity | PEM | PKCS#8 bytes | JWK | {seed}),
  //   iceServers?, rtcConfig?, RTCPeerConnection?, WebSocket?, messageSignatures? ('always' |
  //   'relayed'), maxClockSkewMs? (120000), maxMessageBytes? (262144), healing?,
  //   zstdDecompress?(bytes, size), level? (2), ackDelayMs? (20), bandwidth? (quality.js),
  //   topology? ('all' | {hub: id}), state? ({journal}: a state store's journal, state_store.js;
  //   Node.js takes {directory, syncToDisk?})}
  constructor(options) {
    super();
    if (!isValidAgentId(options?.id)) throw new TypeError(`bad agent id ${options?.id}`);
    if (typeof options.signalingUrl !== 'string') throw new TypeError('signalingUrl is required');
    if (options.messageSignatures !== undefined && !['always', 'relayed'].includes(options.messageSignatures))
      throw new TypeError(`messageSignatures is 'always' or 'relayed', not ${options.messageSignatures}`);
    this.options = {
      // As the C++ agent's IdentityConfig::messageSignatures (docs/identity.md): 'always' signs
      // and requires a signature on every message; 'relayed' only on those that pass through a
      // relay, since a direct link is bound to the source's key by its signed hello.
      messageSignatures: 'always',
      maxClockSkewMs: 120000,
      maxMessageBytes: 256 * 1024,
      // How long an acknowledgement nobody asked for ("r", docs/link-protocol.md section 7)
      // waits for a message to ride on: a message that asks is acknowledged when the turn that
      // delivered it is over. The C++ agent waits 5 s; this agent answers a peer that does not
      // ask (a relay's forwards, C++ Agent::send) sooner, so that the peer's queue empties.
      ackDelayMs: 20,
      level: 2,
      iceServers: [],
      ...options,
    };
    this.id = options.id;
    this.healing = { ...HEALING_DEFAULTS, ...(options.healing ?? {}) };
    this.RTCPeerConnection = options.RTCPeerConnection ?? globalThis.RTCPeerConnection;
    if (!this.RTCPeerConnection) throw new Error('no RTCPeerConnection (pass options.RTCPeerConnection)');
    this.turnAvailable = this.options.iceServers.some((s) => [].concat(s.urls).some(isTurnUrl));
    // 52 random bits, never 0: the same range as the C++ agent's.
    this.incarnation = (randomWireId() % 0xfffffffffffff) + 1;
    this.keys = new KeyDirectory();
    this.directory = new Set();
    this.links = new Map();
    this.replay = new ReplayGuard(this.options.maxClockSkewMs);
    this.sequences = new Map(); // `${destination}\n${lane}` -> last sequence_num
    this.counters = {
      sent: 0,
      acknowledged: 0,
      received: 0,
      rejected: 0,
      forwarded: 0,
    };
    this.quality = new QualityController(this.options.bandwidth ?? {});
    this.qualityTimer = null;
    this.closed = false;
    this.started = false;
    this.signaling = null;
    this.store = null;
  }

  get publicKey() {
    return this.identity?.publicKeyBase64;
  }

  async start() {
    if (this.started) throw new Error('agent already started');
    this.started = true;
    if (this.options.state?.journal) await this.#openStore(this.options.state.journal);
    const k = this.options.keys ?? this.store?.identityPem;
    this.identity = k instanceof Identity ? k : k ? await Identity.import(k) : await Identity.generate();
    if (this.store && !k) this.store.keepIdentity(await this.identity.exportPem());
    this.keys.set(this.id, this.identity.publicKeyBase64);
    await this.#connectSignaling();
    this.qualityTimer = setInterval(() => this.#sampleBandwidth(), this.quality.config.checkInterval);
    return this;
  }

  // docs/durability.md: the incarnation, sequences, replay window and every link's counters and
  // outbox come from the store; links with stored state exist before anyone joins, so a peer
  // that joins gets the messages kept for it.
  async #openStore(journal) {
    const store = await StateStore.open(journal);
    this.store = store;
    this.incarnation = store.keepIncarnation(this.incarnation);
    this.sequences = store.sequences;
    this.replay.sources = store.replay;
    this.replay.onChange = (source) => store.replayChanged(source);
    store.onFailure = (e) => this._witness('state_store_failed', '', { error: e.message });
    store.onDurable((commit) => {
      for (const link of this.links.values()) {
        link.session.durable(link.now(), commit);
        link.flush();
      }
    });
    for (const peer of store.storedPeers()) this.#link(peer);
  }

  // The bandwidth adapter: the largest and the average backlog over open channels (the channel's
  // bufferedAmount plus what waits in the link) choose the mode, whose batch delay every link uses.
  #sampleBandwidth() {
    let max = 0;
    let total = 0;
    let channels = 0;
    for (const link of this.links.values()) {
      link.pump(); // waiting messages also move when the channel reports it drained
      const buffered = link.bufferedAmount();
      if (buffered === null) continue;
      max = Math.max(max, buffered);
      total += buffered;
      channels++;
    }
    const avg = channels ? Math.floor(total / channels) : 0;
    const before = this.quality.mode;
    if (!this.quality.update(max, avg)) return;
    for (const link of this.links.values()) link.session.setBatchDelay(this.quality.batchDelay);
    const c = this.quality.config;
    this._witness('bandwidth_quality_changed', '', {
      old_mode: before,
      new_mode: this.quality.mode,
      max_buffered: max,
      avg_buffered: avg,
      channel_count: channels,
      threshold_high_to_medium: c.highToMedium,
      threshold_medium_to_low: c.mediumToLow,
    });
    this.emit('quality', this.quality.mode, before);
  }

  async #connectSignaling() {
    const s = new SignalingClient({
      url: this.options.signalingUrl,
      agentId: this.id,
      token: this.options.token,
      publicKey: this.identity.publicKeyBase64,
      WebSocket: this.options.WebSocket,
    });
    s.on('registered', (agents) => {
      for (const [id, key] of agents) this.#joined(id, key);
      this.emit('registered', [...agents.keys()]);
    });
    s.on('joined', (id, key) => this.#joined(id, key));
    s.on('left', (id) => this.#left(id));
    s.on('relay', (from, type, msg) => this.#relay(from, type, msg));
    s.on('error', (code, message) => this.emit('signalingError', { code, message }));
    s.on('close', () => this.#signalingLost());
    this.signaling = s;
    await s.connect();
  }

  #signalingLost() {
    if (this.closed) return;
    this.emit('signalingError', { code: 'unreachable', message: 'signaling connection closed' });
    let attempt = 0;
    const retry = async () => {
      if (this.closed) return;
      try {
        await this.#connectSignaling();
      } catch (e) {
        if (this.closed || e.code === 'duplicate_id' || e.code === 'unauthorized') {
          this.emit('signalingError', { code: e.code, message: e.message });
          if (e.code !== 'duplicate_id' || this.closed) return;
        }
        attempt++;
        setTimeout(retry, Math.min(1000 * 2 ** attempt, 30000));
      }
    };
    setTimeout(retry, 200);
  }

  #joined(id, key) {
    if (id === this.id) return;
    if (key === undefined) this.keys.delete(id);
    else if (!this.keys.set(id, key))
      this._witness('peer_key_rejected', id, { reason: 'not a base64 Ed25519 public key' });
    this.directory.add(id);
    // A link to every neighbour that announced a key (the others cannot link).
    if (!this.keys.has(id) || !this.#isNeighbour(id)) return;
    this.#link(id).start();
  }

  // Full mesh: everyone. Hub and spoke ({hub}): the hub links to everyone, a spoke to the hub.
  #isNeighbour(id) {
    const hub = this.options.topology?.hub;
    return !hub || this.id === hub || id === hub;
  }

  // Where a message for `to` goes first: `to` itself, or the hub for a spoke.
  #nextHop(to) {
    if (this.#isNeighbour(to) || this.links.get(to)?.state === PeerState.Connected) return to;
    return this.options.topology.hub;
  }

  // Witnesses a message refused on its way in (ifmessage_rejected, the C++ agent's fields). True:
  // the link acknowledges it, so it is not resent.
  #rejected(peerId, message, hops, reason) {
    this._witness('ifmessage_rejected', peerId, {
      reason,
      message_id: message.id,
      source: message.source,
      sequence_num: message.sequence_num,
      priority: message.priority,
      hops,
    });
    return true;
  }

  // docs/link-protocol.md section 8: a message for another agent goes on with one more hop,
  // unchanged (its signature included); the destination checks it. False holds it back
  // (unacknowledged) while the next hop's queue is full.
  #forward(fromPeer, message, hops) {
    const reject = (reason) => this.#rejected(fromPeer, message, hops, reason);
    if (hops >= 16) return reject('hop limit reached');
    const known = this.directory.has(message.destination) || this.links.has(message.destination);
    const next = known ? this.#nextHop(message.destination) : null;
    if (!next || next === fromPeer || next === this.id) return reject('unknown destination');
    const link = this.#link(next);
    if (this.directory.has(next) && this.keys.has(next)) link.start();
    let taken;
    try {
      taken = link.session.enqueue(performance.now(), this._relaying(message, fromPeer, next), hops + 1);
    } catch (e) {
      return reject(e.message);
    }
    if (taken) link.sent(message, hops + 1);
    link.flush();
    if (!taken) {
      // Backpressure: the sending neighbour keeps it and resends after our hello.
      this._witness('forward_held', fromPeer, { message_id: message.id, next_hop: next });
      setTimeout(() => {
        const from = this.links.get(fromPeer);
        if (!from || this.closed) return;
        from.session.resumeReceiving();
        from.flush();
      }, 200);
      return false;
    }
    this.counters.forwarded++;
    return true;
  }

  #left(id) {
    this.directory.delete(id);
    const link = this.links.get(id);
    // The link's session keeps what waits: a restarted process of that id takes it.
    if (link && link.state !== PeerState.Connected) link.cancelTimers();
  }

  #link(id) {
    let link = this.links.get(id);
    if (!link) {
      link = new PeerLink(this, id);
      link.session.setBatchDelay(this.quality.batchDelay);
      this.links.set(id, link);
    }
    return link;
  }

  #relay(from, type, msg) {
    if (!RELAY_TYPES.has(type) || this.closed) return;
    const sid = Number.isSafeInteger(msg.sid) && msg.sid > 0 ? msg.sid : 0;
    const text = (o, k) => (o && typeof o === 'object' && typeof o[k] === 'string' ? o[k] : '');
    const wouldCreateLink = type === 'offer' || type === 'connect-request';
    if (wouldCreateLink && !this.links.has(from) && !this.keys.has(from)) {
      this._witness('link_refused', from, {
        reason: 'the peer announced no public key',
        signal_type: type,
      });
      return;
    }
    if (type === 'offer' && msg.offer && typeof msg.offer === 'object') {
      this.#link(from).handleOffer(sid, text(msg.offer, 'sdp'));
    } else if (type === 'answer' && msg.answer && typeof msg.answer === 'object') {
      this.links.get(from)?.handleAnswer(sid, text(msg.answer, 'sdp'));
    } else if (type === 'ice-candidate' && msg.candidate && typeof msg.candidate === 'object') {
      this.links
        .get(from)
        ?.handleCandidate(sid, text(msg.candidate, 'candidate'), text(msg.candidate, 'sdpMid'));
    } else if (type === 'connect-request') {
      this.#link(from).handleConnectRequest();
    } else if (type === 'bye') {
      this.links.get(from)?.handleBye();
    }
  }

  // ---- used by PeerLink ----

  // A direct attempt gathers with the stun: servers only; an attempt through TURN with the turn:
  // servers only, relay candidates only (the C++ agent's AgentConfig::iceServers and turnServers).
  rtcConfig(relay) {
    const iceServers = [];
    for (const server of this.options.iceServers) {
      const urls = [].concat(server.urls).filter((u) => isTurnUrl(u) === relay);
      if (urls.length) iceServers.push({ ...server, urls });
    }
    const cfg = { ...(this.options.rtcConfig ?? {}), iceServers };
    if (relay) cfg.iceTransportPolicy = 'relay';
    return cfg;
  }

  _signal(to, type, body) {
    this.signaling?.send(to, type, body);
  }

  _witness(event, peerId, metadata = {}) {
    if (event === 'ifmessage_rejected') this.counters.rejected++;
    if (!this.listens(event) && !this.listens('witness')) return;
    const record = { event, agent_id: this.id, peer_id: peerId, ...metadata };
    this.emit(event, record);
    this.emit('witness', record);
  }

  _peerStateChanged(peerId, state) {
    this.emit('peerState', peerId, state);
  }

  // Starts checking the signature of a message for this agent as soon as it arrives, while the
  // link still delivers earlier ones: {key, ok} (promises), or null when there is nothing to check.
  _precheck(message) {
    if (message.destination !== this.id || typeof message.signature !== 'string') return null;
    const key = this.keys.key(message.source);
    const ok = key.then((k) => (k ? verifyMessageSignature(k, message) : false)).catch(() => false);
    return { key, ok };
  }

  // The destination's checks (docs/link-protocol.md section 5), then the application. True
  // when the link may acknowledge the message (also for a rejected one). `check`: what
  // _precheck started for it, used when it verified against the key the source has now.
  async _deliver(peerId, message, hops, check = null) {
    const reject = (reason) => this.#rejected(peerId, message, hops, reason);
    if (message.destination !== this.id) return this.#forward(peerId, message, hops);
    const signed = typeof message.signature === 'string';
    const required = this.options.messageSignatures === 'always' || hops > 0;
    if (required || signed) {
      const key = await this.keys.key(message.source);
      if (!key) return reject('unknown_source_key');
      if (!signed) return reject('missing_signature');
      const valid =
        check && (await check.key) === key ? await check.ok : await verifyMessageSignature(key, message);
      if (!valid) return reject('bad_signature');
    }
    const ts = parseTimestamp(message.timestamp);
    if (ts === null) return reject('bad_timestamp');
    const now = Date.now();
    if (Math.abs(ts - now) > this.options.maxClockSkewMs) return reject('stale_timestamp');
    if (!message.sequence_num) return reject('bad_sequence');
    if (!this.replay.accept(message, ts, now)) return reject('replay');
    if (message.rawNumbers) message.payload = plainJson(message.payload);
    this.counters.received++;
    if (this.listens('ifmessage_received') || this.listens('witness'))
      this._witness('ifmessage_received', peerId, {
        message_id: message.id,
        source: message.source,
        sequence_num: message.sequence_num,
        priority: message.priority,
        hops,
      });
    this.emit('message', message, { from: peerId, hops });
    return true;
  }

  // What a relay passes on: the message itself. A subclass may observe forwarded traffic here
  // (the tests also use it to play a relay that tampers, which every destination must catch).
  _relaying(message, _fromPeer, _nextHop) {
    return message;
  }

  // ---- public API ----

  // Resolves with {id, sequence} once the next hop acknowledged the message: on a direct link the
  // destination (it passed its checks and reached its application, or was rejected there),
  // through a hub the hub. Rejects when the message cannot be queued or the peer is given up.
  send(to, payload, opts = {}) {
    if (!this.identity || this.closed) return Promise.reject(new Error('agent is not running'));
    if (!isValidAgentId(to)) return Promise.reject(new TypeError(`bad destination ${to}`));
    if (to === this.id) return Promise.reject(new TypeError('cannot send to this agent itself'));
    const priority = opts.priority ?? 'normal';
    let lane;
    try {
      lane = laneOf(priority);
    } catch (e) {
      return Promise.reject(e);
    }
    const key = `${to}\n${lane}`;
    const sequence = (this.sequences.get(key) ?? 0) + 1;
    this.sequences.set(key, sequence);
    this.store?.sequenceChanged(key);
    const message = {
      id: randomUuid(),
      timestamp: formatTimestamp(Date.now()),
      level: opts.level ?? this.options.level,
      source: this.id,
      destination: to,
      version: IFMESSAGE_VERSION,
      payload: payload === undefined ? {} : payload,
      sequence_num: sequence,
      trace_id: opts.traceId ?? '',
      priority,
      incarnation: this.incarnation,
    };
    const hop = this.#nextHop(to);
    const link = this.#link(hop);
    if (this.directory.has(hop) && this.keys.has(hop)) link.start();
    try {
      preparePayload(message); // one canonical serialization for the signature and the wire
    } catch (e) {
      return Promise.reject(e);
    }
    this.counters.sent++;
    // Signatures are made in parallel and queued in send order.
    const sign = this.options.messageSignatures === 'always' || hop !== to;
    const signature = sign ? this.identity.signMessage(message) : null;
    return new Promise((resolve, reject) => {
      const meta = {
        resolve: () => {
          this.counters.acknowledged++;
          resolve({ id: message.id, sequence });
        },
        reject,
      };
      const enqueue = (sig) => {
        if (this.closed) return reject(new Error('agent closed'));
        if (sig) message.signature = sig;
        try {
          link.enqueue(message, meta);
        } catch (e) {
          reject(e);
        }
      };
      if (!signature && link.signing === 0) return enqueue(); // nothing signed ahead of it
      link.signing++;
      const done = () => {
        // A requested acknowledgement may have waited for this send to carry it.
        if (--link.signing === 0) link.scheduleTick();
      };
      link.sendChain = link.sendChain
        .then(() => (signature ? signature.then(enqueue, reject) : enqueue()))
        .then(done, done);
    });
  }

  // Resolves once every message accepted so far is durable in the state store (at once without
  // one): a message sent before this call survives a crash of this process from then on. A
  // message being signed reaches the store only when its signature is made, so the links' send
  // chains as they stand now are waited for first.
  async durable() {
    if (!this.store) return;
    await Promise.all([...this.links.values()].map((l) => l.sendChain));
    return this.store.whenDurable();
  }

  // Sends to every agent in the directory that announced a key.
  broadcast(payload, opts = {}) {
    const targets = [...this.directory].filter((id) => this.keys.has(id));
    return Promise.all(targets.map((id) => this.send(id, payload, opts)));
  }

  peers() {
    return [...this.links.values()].map((l) => ({
      id: l.peerId,
      state: l.state,
      unacknowledged: l.session.unacknowledged,
      inDirectory: this.directory.has(l.peerId),
    }));
  }

  // The bandwidth adapter's mode, one for the whole agent as in the C++ agent (the argument is
  // accepted for the API's shape).
  qualityMode(_peer) {
    return this.quality.mode;
  }

  stats() {
    const links = {};
    for (const l of this.links.values())
      links[l.peerId] = {
        state: l.state,
        unacknowledged: l.session.unacknowledged,
        queuedBytes: l.session.queuedBytes,
        channelMessagesSent: l.stats.sent,
        channelMessagesReceived: l.stats.received,
        bytesSent: l.stats.bytesSent,
        bytesReceived: l.stats.bytesReceived,
      };
    return {
      id: this.id,
      incarnation: this.incarnation,
      messagesSent: this.counters.sent,
      messagesAcknowledged: this.counters.acknowledged,
      messagesReceived: this.counters.received,
      messagesRejected: this.counters.rejected,
      messagesForwarded: this.counters.forwarded,
      quality: {
        mode: this.quality.mode,
        transitions: this.quality.transitions,
        peakBuffered: this.quality.peakBuffered,
        batchesSent: [...this.links.values()].reduce((n, l) => n + l.stats.batches, 0),
        // Batches of the frames of one turn, in HIGH mode too.
        coalescedBatches: [...this.links.values()].reduce((n, l) => n + l.stats.coalesced, 0),
      },
      links,
    };
  }

  // Says bye to connected peers, closes every connection and the signaling socket. Messages
  // not yet acknowledged are rejected (a state store keeps them for the next start).
  async close() {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.qualityTimer);
    for (const link of this.links.values()) {
      link.disconnect();
      for (const e of link.session.takeAll()) e.meta?.reject?.(new Error('agent closed'));
      link.dispose();
    }
    // The byes are relayed before the socket closes.
    await new Promise((r) => setTimeout(r, 20));
    await this.signaling?.close();
    await this.store?.close();
  }
}
