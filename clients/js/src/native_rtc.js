// The W3C RTCPeerConnection and RTCDataChannel, as much of them as the agent uses (connection.js),
// over ifmesh's own DataChannel stack through its Node.js addon (clients/js/native, built by the
// project's CMake as build/node/ifmesh_rtc.node). Node.js only.
//
// What differs from the W3C API: createOffer and createAnswer also apply the description (the
// stack has no separate step; setLocalDescription only records it), so candidates may trickle
// before setLocalDescription resolves; getStats reports only the selected pair's candidate types
// and the SCTP round trip.
import { createRequire } from 'node:module';

// Event kinds of rtc_addon.cpp.
const CANDIDATE = 0;
const STATE = 1;
const DATA_CHANNEL = 2;
const CHANNEL_OPEN = 3;
const CHANNEL_CLOSE = 4;
const CHANNEL_ERROR = 5;
const CHANNEL_MESSAGE = 6;
const BUFFERED_AMOUNT_LOW = 7;

function invalidState(message) {
  const e = new Error(message);
  e.name = 'InvalidStateError';
  return e;
}

class NativeDataChannel {
  constructor(pc, key, label, protocol, init = {}) {
    this._pc = pc;
    this._key = key;
    this.label = label;
    this.protocol = protocol ?? '';
    this.negotiated = !!init.negotiated;
    this.id = init.id ?? null;
    this.ordered = init.ordered ?? true;
    this.readyState = 'connecting';
    this.binaryType = 'arraybuffer';
    this._threshold = 0;
    this.onopen = this.onclose = this.onerror = this.onmessage = this.onbufferedamountlow = null;
  }
  get bufferedAmount() {
    if (this.readyState !== 'open') return 0;
    return this._pc._native.bufferedAmount(this._key);
  }
  get bufferedAmountLowThreshold() {
    return this._threshold;
  }
  set bufferedAmountLowThreshold(bytes) {
    this._threshold = bytes;
    if (this.readyState !== 'closed') this._pc._native.setBufferedAmountLowThreshold(this._key, bytes);
  }
  get maxMessageSize() {
    return this.readyState === 'open' ? this._pc._native.maxMessageSize(this._key) : 0;
  }
  send(data) {
    if (this.readyState !== 'open') throw invalidState(`channel ${this.label} is ${this.readyState}`);
    this._pc._native.send(this._key, data);
  }
  close() {
    if (this.readyState === 'closed' || this.readyState === 'closing') return;
    this.readyState = 'closing';
    this._pc._native.closeChannel(this._key);
  }
  _event(kind, a) {
    switch (kind) {
      case CHANNEL_OPEN:
        this.readyState = 'open';
        this.onopen?.({ type: 'open' });
        break;
      case CHANNEL_CLOSE:
        this.readyState = 'closed';
        this._pc._channels.delete(this._key);
        this.onclose?.({ type: 'close' });
        break;
      case CHANNEL_ERROR:
        this.onerror?.({ type: 'error', error: new Error(a) });
        break;
      case CHANNEL_MESSAGE:
        this.onmessage?.({ type: 'message', data: a });
        break;
      case BUFFERED_AMOUNT_LOW:
        this.onbufferedamountlow?.({ type: 'bufferedamountlow' });
        break;
    }
  }
}

const STATES = new Set(['new', 'connecting', 'connected', 'disconnected', 'failed', 'closed']);

// The RTCPeerConnection class over the addon at `addonPath` (default: $IFMESH_NODE_ADDON).
// config: iceServers (W3C form), iceTransportPolicy ('relay': relay candidates only), and
// bindAddress (the one local address ICE gathers on, as node-datachannel's option).
export function nativeRTCPeerConnection(addonPath = process.env.IFMESH_NODE_ADDON) {
  if (!addonPath) throw new Error('no ifmesh Node.js addon: pass its path or set IFMESH_NODE_ADDON');
  const addon = createRequire(import.meta.url)(addonPath);

  return class RTCPeerConnection {
    // Which stack this is (node-datachannel's class has no such field).
    static implementation = 'ifmesh';

    constructor(config = {}) {
      const iceServers = [];
      for (const s of config.iceServers ?? [])
        for (const url of [].concat(s.urls))
          iceServers.push({ url, username: s.username, credential: s.credential });
      this._channels = new Map();
      this.connectionState = 'new';
      this.localDescription = null;
      this.remoteDescription = null;
      this.onicecandidate = this.onconnectionstatechange = this.ondatachannel = null;
      this._closed = false;
      this._native = new addon.PeerConnection(
        {
          iceServers,
          localAddresses: config.bindAddress ? [config.bindAddress] : [],
          forceRelay: config.iceTransportPolicy === 'relay',
        },
        (kind, key, a, b) => this._event(kind, key, a, b),
      );
    }

    get sctp() {
      for (const dc of this._channels.values()) if (dc.readyState === 'open') return { maxMessageSize: dc.maxMessageSize };
      return null;
    }

    async createOffer() {
      return { type: 'offer', sdp: this._native.createOffer() };
    }
    async createAnswer() {
      return { type: 'answer', sdp: this._native.createAnswer() };
    }
    async setLocalDescription(description) {
      this.localDescription = description;
    }
    async setRemoteDescription(description) {
      this._native.setRemoteDescription(description.type, description.sdp);
      this.remoteDescription = description;
    }
    async addIceCandidate(c) {
      if (!c || !c.candidate) return;
      this._native.addRemoteCandidate(c.candidate, c.sdpMid ?? '0'); // "a=" is taken too
    }

    createDataChannel(label, init = {}) {
      const key = this._native.createDataChannel(label, {
        negotiatedId: init.negotiated ? init.id : undefined,
        ordered: init.ordered ?? true,
        maxRetransmits: init.maxRetransmits,
        maxPacketLifeTime: init.maxPacketLifeTime,
        protocol: init.protocol,
      });
      const dc = new NativeDataChannel(this, key, label, init.protocol, init);
      this._channels.set(key, dc);
      return dc;
    }

    async getStats() {
      const report = new Map();
      if (this._closed) return report;
      const s = this._native.stats();
      if (s.localType) {
        report.set('pair', { id: 'pair', type: 'candidate-pair', selected: true, state: 'succeeded',
          localCandidateId: 'local', remoteCandidateId: 'remote', currentRoundTripTime: s.rttMs / 1000 });
        report.set('local', { id: 'local', type: 'local-candidate', candidateType: s.localType });
        report.set('remote', { id: 'remote', type: 'remote-candidate', candidateType: s.remoteType });
      }
      return report;
    }

    close() {
      if (this._closed) return;
      this._closed = true;
      this._native.close();
      this.connectionState = 'closed';
      for (const dc of this._channels.values()) dc.readyState = 'closed';
      this._channels.clear();
    }

    _event(kind, key, a, b) {
      if (this._closed) return;
      if (kind === CANDIDATE) {
        this.onicecandidate?.({ candidate: a ? { candidate: a, sdpMid: b } : null });
      } else if (kind === STATE) {
        if (!STATES.has(a) || a === this.connectionState) return;
        this.connectionState = a;
        this.onconnectionstatechange?.({ type: 'connectionstatechange' });
      } else if (kind === DATA_CHANNEL) {
        // The stack hands over a channel the peer opened once it is open.
        const dc = new NativeDataChannel(this, key, a, b);
        dc.readyState = 'open';
        this._channels.set(key, dc);
        this.ondatachannel?.({ channel: dc });
      } else {
        this._channels.get(key)?._event(kind, a);
      }
    }
  };
}
