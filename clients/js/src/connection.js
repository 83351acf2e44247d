// One connection attempt of a link (docs/link-protocol.md section 2) over the W3C WebRTC API: an
// RTCPeerConnection with the pre-negotiated channel, the offer or answer, trickled candidates
// (ours held until our description is signaled, the peer's until its description is applied),
// and both DTLS fingerprints as the hello needs them.
import { CHANNEL_LABEL, sdpFingerprint } from './codec.js';

export const CHANNEL_HIGH_WATER = 64 * 1024;

// A candidate as the W3C API and the C++ agent write it: node-datachannel's carries "a=".
function candidateLine(c) {
  return c.startsWith('a=') ? c.slice(2) : c;
}

// The description without the candidates gathered into it; they are trickled instead, so that
// the transport policy can choose among them (libdatachannel writes every kind into it).
function withoutCandidates(sdp) {
  return sdp
    .split('\r\n')
    .filter((l) => !l.startsWith('a=candidate:') && l !== 'a=end-of-candidates')
    .join('\r\n');
}

export class Connection {
  // events: {open(), down(why), message(data), drained()}; signal(type, body).
  constructor({ RTCPeerConnection, rtcConfig, sid, signal, events }) {
    this.sid = sid;
    this.signal = signal;
    this.events = events;
    this.closed = false;
    this.descriptionSent = false;
    this.heldCandidates = [];
    this.remoteApplied = false;
    this.remoteCandidates = [];
    this.localFingerprint = '';
    this.remoteFingerprint = '';
    this.steps = Promise.resolve(); // description and candidate steps, in order
    this.relayOnly = rtcConfig?.iceTransportPolicy === 'relay';
    this.pc = new RTCPeerConnection(rtcConfig);
    const dc = this.pc.createDataChannel(CHANNEL_LABEL, { negotiated: true, id: 0, ordered: true });
    dc.binaryType = 'arraybuffer';
    dc.bufferedAmountLowThreshold = CHANNEL_HIGH_WATER / 2;
    this.dc = dc;
    dc.onopen = () => !this.closed && events.open();
    dc.onclose = () => !this.closed && events.down('channel closed');
    dc.onmessage = (e) => !this.closed && events.message(e.data);
    dc.onbufferedamountlow = () => !this.closed && events.drained();
    this.pc.onicecandidate = (e) => {
      if (this.closed || !e.candidate || !e.candidate.candidate) return;
      const candidate = candidateLine(e.candidate.candidate);
      if (this.relayOnly && !/ typ relay( |$)/.test(candidate)) return;
      const body = { sid: this.sid, candidate: { candidate, sdpMid: e.candidate.sdpMid ?? '0' } };
      if (this.descriptionSent) this.signal('ice-candidate', body);
      else this.heldCandidates.push(body);
    };
    this.pc.onconnectionstatechange = () => {
      const s = this.pc.connectionState;
      if (!this.closed && (s === 'failed' || s === 'closed' || s === 'disconnected'))
        events.down(s);
    };
  }

  #step(fn) {
    this.steps = this.steps.then(async () => {
      if (this.closed) return;
      try {
        await fn();
      } catch (e) {
        if (!this.closed) this.events.down(`description failed: ${e.message}`);
      }
    });
    return this.steps;
  }

  #releaseCandidates() {
    this.descriptionSent = true;
    for (const body of this.heldCandidates) this.signal('ice-candidate', body);
    this.heldCandidates = [];
  }

  async #applyRemote(description) {
    await this.pc.setRemoteDescription(description);
    this.remoteFingerprint = sdpFingerprint(description.sdp);
    this.remoteApplied = true;
    for (const c of this.remoteCandidates) await this.#addCandidate(c);
    this.remoteCandidates = [];
  }

  async #addCandidate(c) {
    try {
      await this.pc.addIceCandidate(c);
    } catch {
      // A malformed candidate is ignored; the others may still connect.
    }
  }

  // The offerer's candidates follow only once the answer is applied: a peer that knew them
  // earlier could finish ICE and start its DTLS handshake before this side knows the
  // fingerprint to verify (libdatachannel then refuses the handshake: "unknown ca").
  offer() {
    return this.#step(async () => {
      const offer = await this.pc.createOffer();
      await this.pc.setLocalDescription(offer);
      const sdp = withoutCandidates(this.pc.localDescription?.sdp ?? offer.sdp);
      this.localFingerprint = sdpFingerprint(sdp);
      if (this.closed) return;
      this.signal('offer', { sid: this.sid, offer: { type: 'offer', sdp } });
    });
  }

  answer(offerSdp) {
    return this.#step(async () => {
      await this.#applyRemote({ type: 'offer', sdp: offerSdp });
      const answer = await this.pc.createAnswer();
      await this.pc.setLocalDescription(answer);
      const sdp = withoutCandidates(this.pc.localDescription?.sdp ?? answer.sdp);
      this.localFingerprint = sdpFingerprint(sdp);
      if (this.closed) return;
      this.signal('answer', { sid: this.sid, answer: { type: 'answer', sdp } });
      this.#releaseCandidates();
    });
  }

  applyAnswer(answerSdp) {
    return this.#step(async () => {
      await this.#applyRemote({ type: 'answer', sdp: answerSdp });
      this.#releaseCandidates();
    });
  }

  addCandidate(candidate, sdpMid) {
    if (typeof candidate !== 'string' || candidate === '') return; // end of candidates
    const c = { candidate, sdpMid: typeof sdpMid === 'string' && sdpMid ? sdpMid : '0' };
    return this.#step(async () => {
      if (this.remoteApplied) await this.#addCandidate(c);
      else this.remoteCandidates.push(c);
    });
  }

  // The candidate types of the pair ICE selected ({local, remote}: host, srflx, prflx, relay),
  // from the standard statistics; empty when they do not say.
  async selectedCandidateTypes() {
    try {
      const report = await this.pc.getStats();
      const byId = new Map();
      let pair = null;
      report.forEach((s) => {
        byId.set(s.id, s);
        if (s.type === 'candidate-pair' && (s.selected || s.nominated || s.state === 'succeeded'))
          pair ??= s;
      });
      report.forEach((s) => {
        if (s.type === 'transport' && s.selectedCandidatePairId)
          pair = byId.get(s.selectedCandidatePairId) ?? pair;
      });
      let local = pair && byId.get(pair.localCandidateId);
      let remote = pair && byId.get(pair.remoteCandidateId);
      // node-datachannel reports one local and one remote candidate: the selected ones.
      report.forEach((s) => {
        if (!local && s.type === 'local-candidate') local = s;
        if (!remote && s.type === 'remote-candidate') remote = s;
      });
      return { local: local?.candidateType, remote: remote?.candidateType };
    } catch {
      return {};
    }
  }

  get isOpen() {
    return !this.closed && this.dc.readyState === 'open';
  }

  get bufferedAmount() {
    return this.dc.bufferedAmount;
  }

  // The largest channel message the peer takes (its a=max-message-size).
  get maxMessageSize() {
    return this.pc.sctp?.maxMessageSize || 65536;
  }

  send(data) {
    this.dc.send(data);
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    this.dc.onopen = this.dc.onclose = this.dc.onmessage = this.dc.onbufferedamountlow = null;
    this.pc.onicecandidate = this.pc.onconnectionstatechange = null;
    try {
      this.dc.close();
    } catch {
      // already closed
    }
    try {
      this.pc.close();
    } catch {
      // already closed
    }
  }
}
