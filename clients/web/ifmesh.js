// ifmesh browser client: the ifmesh signaling protocol (docs/signaling-protocol.md) over a
// WebSocket, and WebRTC DataChannels through the browser's own RTCPeerConnection.
// Plain ES module, no dependencies, no build step. See README.md beside this file.

/** A tiny event emitter: on(name, fn) returns a function that removes the listener. */
class Emitter {
  #listeners = new Map();

  on(name, fn) {
    if (!this.#listeners.has(name)) this.#listeners.set(name, new Set());
    this.#listeners.get(name).add(fn);
    return () => this.#listeners.get(name)?.delete(fn);
  }

  emit(name, ...args) {
    for (const fn of this.#listeners.get(name) ?? []) {
      try {
        fn(...args);
      } catch (err) {
        console.error(`ifmesh: '${name}' listener threw`, err);
      }
    }
  }
}

/** A signaling error sent by the server ({code, message}), or a local failure. */
export class IfmeshError extends Error {
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.name = 'IfmeshError';
    this.code = code;
  }
}

// Session ids name one connection attempt; 52 bits so they stay exact in JSON numbers on both
// sides (the C++ agents use the same range). Never zero.
function newSid() {
  const words = crypto.getRandomValues(new Uint32Array(2));
  return (words[0] & 0xfffff) * 2 ** 32 + words[1] || 1;
}

/** The a=max-message-size value of an SDP, or undefined when absent. */
export function maxMessageSizeOf(sdp) {
  const m = /^a=max-message-size:(\d+)/m.exec(sdp ?? '');
  return m ? Number(m[1]) : undefined;
}

/**
 * One WebRTC connection to another agent. Created by IfmeshClient.connect() (we offer) or by an
 * incoming offer (we answer; the client emits 'peer').
 *
 * Events: 'channel' (RTCDataChannel opened by the remote side), 'state' (connectionState),
 * 'candidate' (local RTCIceCandidate, null at the end), 'remote-candidate' ({candidate, sdpMid}
 * as relayed), 'close' (after bye, failure or close()).
 */
export class Peer extends Emitter {
  /** @internal */
  constructor(client, peerId, sid, initiator) {
    super();
    this.client = client;
    this.id = peerId;
    this.sid = sid;
    this.initiator = initiator;
    this.pc = new RTCPeerConnection(client.rtcConfig);
    this.closed = false;
    // Remote candidates that arrive before the remote description (the offerer trickles right
    // after its offer) wait here: addIceCandidate needs the description first.
    this.pendingCandidates = [];
    this.pc.onicecandidate = (e) => this.#sendCandidate(e.candidate);
    this.pc.ondatachannel = (e) => {
      e.channel.binaryType = 'arraybuffer'; // the default, 'blob', would make reads async
      this.emit('channel', e.channel);
      client.emit('channel', e.channel, this);
    };
    this.pc.onconnectionstatechange = () => {
      const state = this.pc.connectionState;
      this.emit('state', state);
      if (state === 'failed') this.#teardown();
    };
    this.ready = new Promise((resolve, reject) => {
      const off = this.on('state', (state) => {
        if (state === 'connected') resolve(this);
        else if (state === 'failed' || state === 'closed') reject(new IfmeshError('failed', state));
        if (state !== 'connecting' && state !== 'new') off();
      });
      this.on('close', () => reject(new IfmeshError('closed', `connection to ${peerId} closed`)));
    });
    // Callers that never await ready must not see an unhandled rejection.
    this.ready.catch(() => {});
  }

  /** onChannel(fn): fn(channel) for each channel the remote side opens. */
  onChannel(fn) {
    return this.on('channel', fn);
  }

  /**
   * Opens a DataChannel. options are RTCDataChannelInit (ordered, maxRetransmits,
   * maxPacketLifeTime, protocol, negotiated, id). binaryType is set to 'arraybuffer'.
   */
  createChannel(label, options = {}) {
    const channel = this.pc.createDataChannel(label, options);
    channel.binaryType = 'arraybuffer';
    return channel;
  }

  /** The negotiated largest message (pc.sctp.maxMessageSize), once the answer is applied. */
  get maxMessageSize() {
    return this.pc.sctp?.maxMessageSize;
  }

  /** Closes the connection and tells the other side (bye). */
  close() {
    if (this.closed) return;
    this.client.relay(this.id, 'bye', { sid: this.sid });
    this.#teardown();
  }

  /** @internal */
  async offer() {
    await this.#sendLocalDescription(await this.pc.createOffer());
  }

  /** @internal */
  async answer(sdp) {
    await this.pc.setRemoteDescription({ type: 'offer', sdp });
    await this.#flushCandidates();
    await this.#sendLocalDescription(await this.pc.createAnswer());
  }

  /** @internal */
  async acceptAnswer(sdp) {
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
    await this.#flushCandidates();
  }

  /** @internal */
  async addCandidate(candidate) {
    this.emit('remote-candidate', candidate);
    if (!this.pc.remoteDescription) {
      this.pendingCandidates.push(candidate);
      return;
    }
    await this.#addCandidateNow(candidate);
  }

  /** @internal: bye from the other side. */
  remoteClosed() {
    this.#teardown();
  }

  // Offer and answer travel alike: applied locally, then relayed as
  // { sid, offer|answer: { type, sdp } }, the message type naming the key.
  async #sendLocalDescription(description) {
    await this.pc.setLocalDescription(description);
    const { type, sdp } = description;
    this.client.relay(this.id, type, { sid: this.sid, [type]: { type, sdp } });
  }

  async #flushCandidates() {
    const held = this.pendingCandidates.splice(0);
    for (const c of held) await this.#addCandidateNow(c);
  }

  async #addCandidateNow({ candidate, sdpMid }) {
    try {
      // An empty candidate is end-of-candidates, which addIceCandidate also understands.
      await this.pc.addIceCandidate({ candidate: candidate ?? '', sdpMid: sdpMid ?? '0' });
    } catch (err) {
      this.client.emit('warning', new IfmeshError('bad_candidate', `${candidate}: ${err.message}`));
    }
  }

  #sendCandidate(candidate) {
    if (this.closed) return;
    this.emit('candidate', candidate);
    // null = gathering finished: relayed as an empty candidate (end-of-candidates).
    const body = candidate
      ? { candidate: candidate.candidate, sdpMid: candidate.sdpMid ?? '0' }
      : { candidate: '', sdpMid: '0' };
    this.client.relay(this.id, 'ice-candidate', { sid: this.sid, candidate: body });
  }

  #teardown() {
    if (this.closed) return;
    this.closed = true;
    this.pc.close();
    this.client.forget(this);
    this.emit('close');
  }
}

/**
 * A registered agent on an ifmesh signaling server.
 *
 *   const client = new IfmeshClient({ url: 'ws://127.0.0.1:8443', agentId: 'browser-1' });
 *   await client.register();
 *   const peer = client.connect('agent-legal');      // offers, with a first channel 'ifmesh'
 *   peer.channel.onopen = () => peer.channel.send('hello');
 *   client.onChannel((channel, peer) => { ... });   // channels the other side opens
 *
 * Events: 'registered' (agents), 'joined' (id), 'left' (id), 'error' (IfmeshError from the
 * server), 'peer' (Peer created by an incoming offer), 'channel' (channel, peer),
 * 'disconnected' (the WebSocket closed), 'warning' (IfmeshError: a message we could not use).
 */
export class IfmeshClient extends Emitter {
  /**
   * url: ws:// URL of the signaling server; agentId: our id; token: only for servers run with a
   * shared secret; rtcConfig: RTCConfiguration for every connection (default: no ICE servers).
   */
  constructor({ url, agentId, token, rtcConfig = {} }) {
    super();
    this.url = url;
    this.agentId = agentId;
    this.token = token;
    this.rtcConfig = rtcConfig;
    this.agents = new Set(); // the directory, without ourselves
    this.peers = new Map(); // sid -> Peer
    this.ws = null;
    this.registered = false;
  }

  /** Opens the WebSocket and registers; resolves with the directory, rejects on an error. */
  register() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url);
      this.ws = ws;
      const offError = this.on('error', (err) => {
        if (!this.registered) reject(err);
      });
      ws.onopen = () => {
        const msg = { type: 'register', agent_id: this.agentId };
        if (this.token) msg.token = this.token;
        ws.send(JSON.stringify(msg));
      };
      ws.onmessage = (e) => {
        const msg = this.#parse(e.data);
        if (!msg) return;
        this.#dispatch(msg);
        if (msg.type === 'registered') {
          this.registered = true;
          offError();
          resolve([...this.agents]);
        }
      };
      ws.onclose = () => {
        const wasRegistered = this.registered;
        this.registered = false;
        offError();
        if (!wasRegistered) reject(new IfmeshError('disconnected', 'signaling socket closed'));
        this.emit('disconnected');
      };
    });
  }

  /** Connects to peerId as the offerer. peer.channel is the first channel (the offer needs one). */
  connect(peerId, { label = 'ifmesh', ...channelOptions } = {}) {
    const peer = new Peer(this, peerId, newSid(), true);
    this.peers.set(peer.sid, peer);
    peer.channel = peer.createChannel(label, channelOptions);
    peer.offer().catch((err) => this.emit('warning', new IfmeshError('offer_failed', err.message)));
    return peer;
  }

  /** onChannel(fn): fn(channel, peer) for each channel any remote peer opens to us. */
  onChannel(fn) {
    return this.on('channel', fn);
  }

  /** Relays {type, to, ...body} through the server. */
  relay(to, type, body = {}) {
    if (this.ws?.readyState !== WebSocket.OPEN) return;
    this.ws.send(JSON.stringify({ ...body, type, to }));
  }

  /** Closes every connection (with bye) and the signaling socket. */
  close() {
    for (const peer of [...this.peers.values()]) peer.close();
    this.ws?.close();
  }

  /** @internal */
  forget(peer) {
    if (this.peers.get(peer.sid) === peer) this.peers.delete(peer.sid);
  }

  #parse(data) {
    try {
      const msg = JSON.parse(data);
      if (msg && typeof msg.type === 'string') return msg;
    } catch {
      // fall through
    }
    this.emit('warning', new IfmeshError('bad_message', String(data).slice(0, 200)));
    return null;
  }

  #dispatch(msg) {
    switch (msg.type) {
      case 'registered':
        this.agents = new Set(msg.connected_agents ?? []);
        this.emit('registered', [...this.agents]);
        return;
      case 'agent-joined':
        this.agents.add(msg.agent_id);
        this.emit('joined', msg.agent_id);
        return;
      case 'agent-left':
        this.agents.delete(msg.agent_id);
        this.emit('left', msg.agent_id);
        return;
      case 'error':
        this.emit('error', new IfmeshError(msg.code, msg.message));
        return;
      default:
        this.#relayed(msg).catch((err) =>
          this.emit('warning', new IfmeshError(`${msg.type}_failed`, err.message)),
        );
    }
  }

  async #relayed(msg) {
    const peer = this.peers.get(msg.sid);
    switch (msg.type) {
      case 'offer': {
        if (peer || !msg.offer?.sdp) return;
        const incoming = new Peer(this, msg.from, msg.sid, false);
        this.peers.set(msg.sid, incoming);
        this.emit('peer', incoming);
        await incoming.answer(msg.offer.sdp);
        return;
      }
      case 'answer':
        if (peer?.initiator && msg.answer?.sdp) await peer.acceptAnswer(msg.answer.sdp);
        return;
      case 'ice-candidate':
        if (peer && msg.candidate) await peer.addCandidate(msg.candidate);
        return;
      case 'bye':
        // A bye names its connection by sid; one without a sid ends every connection to `from`.
        for (const p of [...this.peers.values()]) {
          if (p.id === msg.from && (msg.sid === undefined || p.sid === msg.sid)) p.remoteClosed();
        }
        return;
      default:
        this.emit('message', msg); // application messages relayed through the server
    }
  }
}
