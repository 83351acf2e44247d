// One peer of the agent: the delivery session that lives as long as the agent, the connection
// attempts under it, and the healing between them (the same backoff and states as
// src/mesh/peer_link.cpp and src/mesh/link_healing.cpp).
import { Connection, CHANNEL_HIGH_WATER } from './connection.js';
import { PRIORITIES } from './codec.js';
import { LinkSession } from './session.js';
import { verifyHello } from './identity.js';

// How long a link reads on after the peer's bye when the connection's close does not arrive.
const BYE_DRAIN_MS = 2000;

export const PeerState = Object.freeze({
  Connecting: 'connecting',
  Connected: 'connected',
  Reconnecting: 'reconnecting',
  Unreachable: 'unreachable',
  Disconnected: 'disconnected',
});

export const HEALING_DEFAULTS = Object.freeze({
  initialDelay: 1000,
  multiplier: 2,
  maxDelay: 60000,
  jitter: 0.2,
  maxRetries: 10,
  turnAfterFailures: 3,
  attemptTimeout: 10000,
});

export function backoffDelay(healing, attempt, random = Math.random) {
  let base = healing.initialDelay * Math.pow(healing.multiplier, Math.max(0, attempt));
  base = Math.min(base, healing.maxDelay);
  const spread = (random() * 2 - 1) * healing.jitter;
  return Math.max(0, Math.floor(base * (1 + spread)));
}

export function randomWireId() {
  const a = new Uint32Array(2);
  for (;;) {
    crypto.getRandomValues(a);
    const v = (a[0] & 0x1fffff) * 0x100000000 + a[1]; // 53 bits
    if (v !== 0 && v < Number.MAX_SAFE_INTEGER) return v;
  }
}

// Runs `fn` once the current turn is over (setImmediate in Node.js, a microtask elsewhere);
// returns what cancels it.
function afterTurn(fn) {
  if (typeof setImmediate === 'function') {
    const t = setImmediate(fn);
    return () => clearImmediate(t);
  }
  let live = true;
  queueMicrotask(() => live && fn());
  return () => {
    live = false;
  };
}

export class PeerLink {
  constructor(agent, peerId) {
    this.agent = agent;
    this.peerId = peerId;
    this.state = PeerState.Connecting;
    this.offerer = agent.id < peerId;
    this.conn = null;
    this.sid = 0;
    this.intentional = false;
    this.peerSaidBye = false; // `intentional` came from the peer's bye, not from this side
    this.everConnected = false;
    this.failedAttempts = 0;
    this.authFailures = 0;
    this.useRelay = false;
    this.downSince = 0;
    this.attemptTimer = null;
    this.retryTimer = null;
    this.byeDrain = null; // reading on after the peer's bye
    this.cancelTick = null;
    this.tickAt = null;
    this.pendingIn = []; // channel messages that came before the session opened
    this.sendChain = Promise.resolve(); // sends waiting for their signature, in send order
    this.signing = 0; // how many
    this.stats = { sent: 0, received: 0, bytesSent: 0, bytesReceived: 0, batches: 0, coalesced: 0 };
    this.session = new LinkSession({
      ownId: agent.id,
      peerId,
      incarnation: agent.incarnation,
      maxMessageBytes: agent.options.maxMessageBytes,
      ackDelay: agent.options.ackDelayMs,
      verifyHello: async (hello, remoteFp) =>
        verifyHello(hello, await agent.keys.key(peerId), peerId, agent.id, remoteFp),
      deliver: (message, hops, _lane, check) => agent._deliver(peerId, message, hops, check),
      precheck: (message) => agent._precheck(message),
      decompress: agent.options.zstdDecompress,
      // The non-urgent frames of one event-loop turn leave as one batch.
      coalesce: true,
      store: agent.store?.link(peerId, () => this.session.storedCounters()),
    });
    if (this.session.store?.restored) this.session.restore(this.session.store.restored);
  }

  now() {
    return performance.now();
  }

  setState(next) {
    if (this.state === next) return;
    this.state = next;
    this.agent._peerStateChanged(this.peerId, next);
  }

  witness(event, metadata = {}) {
    this.agent._witness(event, this.peerId, metadata);
  }

  strategy() {
    return this.useRelay ? 'turn' : 'direct';
  }

  start() {
    this.endByeDrain();
    this.intentional = this.peerSaidBye = false;
    if (this.state === PeerState.Connected) return;
    if (this.attemptTimer || this.retryTimer) return;
    this.attempt();
  }

  attempt() {
    if (this.intentional || this.agent.closed) return;
    this.retryTimer = null;
    this.fallBackToTurnIfDue(); // turnAfterFailures 0: the first attempt already goes through TURN
    if (this.failedAttempts > 0)
      this.witness('reconnection_attempt_started', {
        attempt_number: this.failedAttempts + 1,
        strategy: this.strategy(),
      });
    this.armAttemptTimer();
    if (this.offerer) {
      this.createConnection(randomWireId());
      this.conn.offer();
    } else {
      this.agent._signal(this.peerId, 'connect-request', {});
    }
  }

  armAttemptTimer() {
    clearTimeout(this.attemptTimer);
    this.attemptTimer = setTimeout(() => {
      this.attemptTimer = null;
      if (this.intentional || this.state === PeerState.Connected) return;
      this.attemptFailed('attempt timed out');
    }, this.agent.healing.attemptTimeout);
  }

  cancelTimers() {
    clearTimeout(this.attemptTimer);
    clearTimeout(this.retryTimer);
    this.attemptTimer = this.retryTimer = null;
  }

  createConnection(sid) {
    this.closeConnection();
    this.sid = sid;
    const conn = new Connection({
      RTCPeerConnection: this.agent.RTCPeerConnection,
      rtcConfig: this.agent.rtcConfig(this.useRelay),
      sid,
      signal: (type, body) => this.agent._signal(this.peerId, type, body),
      events: {
        open: () => this.conn === conn && this.onChannelOpen(),
        down: (why) => this.conn === conn && queueMicrotask(() => this.conn === conn && this.onTransportDown(why)),
        message: (data) => this.conn === conn && this.onChannelMessage(data),
        drained: () => this.conn === conn && this.pump(),
      },
    });
    this.conn = conn;
    this.helloReady = null;
  }

  closeConnection() {
    if (this.conn) this.conn.close();
    this.conn = null;
    this.pendingIn = [];
    this.session.close();
    this.scheduleTick();
  }

  handleOffer(sid, sdp) {
    this.endByeDrain();
    this.intentional = this.peerSaidBye = false;
    this.fallBackToTurnIfDue();
    this.createConnection(sid);
    this.conn.answer(sdp);
    if (!this.attemptTimer) this.armAttemptTimer();
  }

  handleAnswer(sid, sdp) {
    if (this.conn && sid === this.sid) this.conn.applyAnswer(sdp);
  }

  handleCandidate(sid, candidate, mid) {
    if (this.conn && sid === this.sid) this.conn.addCandidate(candidate, mid);
  }

  handleConnectRequest() {
    this.endByeDrain();
    if (!this.offerer) return;
    // After our own disconnect the request is refused; after the peer's bye it is a new process
    // of the peer (or the same one changing its mind) asking to be linked again.
    if (this.intentional && !this.peerSaidBye) return;
    this.intentional = this.peerSaidBye = false;
    if (this.state === PeerState.Connected && this.conn && this.conn.isOpen) {
      this.onTransportDown('peer requested a new connection');
      return;
    }
    this.cancelTimers();
    this.attempt();
  }

  // The bye comes through signaling and can overtake the peer's last frames, still on the
  // connection's path: the link stops healing now and reads on until the connection closes (the
  // peer's SCTP ABORT follows its frames), for at most BYE_DRAIN_MS.
  handleBye() {
    this.peerSaidBye = true;
    if (!this.conn || this.state !== PeerState.Connected) return this.stop('peer said bye');
    this.intentional = true;
    this.cancelTimers();
    clearTimeout(this.byeDrain);
    this.byeDrain = setTimeout(() => this.stop('peer said bye'), BYE_DRAIN_MS);
  }

  endByeDrain() {
    if (this.byeDrain) this.stop('peer said bye');
  }

  // The session's last frames (session.closing) go before the bye.
  disconnect() {
    this.peerSaidBye = false;
    if (this.state === PeerState.Connected) {
      this.session.closing(this.now());
      this.flush();
      this.agent._signal(this.peerId, 'bye', {});
    }
    this.stop('local disconnect');
  }

  stop(reason) {
    clearTimeout(this.byeDrain);
    this.byeDrain = null;
    this.intentional = true;
    this.cancelTimers();
    this.closeConnection();
    if (this.state !== PeerState.Disconnected) {
      this.setState(PeerState.Disconnected);
      this.witness('peer_disconnected', { reason });
    }
  }

  onChannelOpen() {
    clearTimeout(this.attemptTimer);
    this.attemptTimer = null;
    this.setState(PeerState.Connected);
    const link = { strategy: this.strategy() };
    const event = this.everConnected || this.failedAttempts > 0 ? 'peer_reconnected_successfully' : 'peer_connected';
    if (event === 'peer_reconnected_successfully') {
      link.total_attempts = this.failedAttempts + 1;
      link.total_downtime_ms = Math.round(this.now() - this.downSince);
      link.failed_attempts = this.failedAttempts;
    }
    this.everConnected = true;
    this.failedAttempts = 0;
    this.openDelivery();
    // Which path ICE chose (e.g. host to host, or through a TURN relay), as the C++ agent says.
    const conn = this.conn;
    conn.selectedCandidateTypes().then(({ local, remote }) => {
      if (local) link.local_candidate_type = local;
      if (remote) link.remote_candidate_type = remote;
      this.witness(event, link);
    });
  }

  // The session opens once the channel is open and our hello is signed for this connection.
  openDelivery() {
    const conn = this.conn;
    if (!conn || this.helloReady) return;
    this.helloReady = (async () => {
      await conn.steps; // the local description (our fingerprint) is set
      const sig = await this.agent.identity.signHello(
        this.agent.id,
        this.agent.incarnation,
        conn.localFingerprint,
        this.peerId,
      );
      if (this.conn !== conn) return;
      this.session.open({
        localFingerprint: conn.localFingerprint,
        helloSignature: sig,
        remoteFingerprint: conn.remoteFingerprint,
        channelFull: (pending) => conn.bufferedAmount + pending >= CHANNEL_HIGH_WATER,
        maxChannelMessage: conn.maxMessageSize,
      });
      this.flush();
      const pending = this.pendingIn;
      this.pendingIn = [];
      for (const data of pending) this.receive(data);
    })();
  }

  onChannelMessage(data) {
    this.stats.received++;
    this.stats.bytesReceived += typeof data === 'string' ? data.length : data.byteLength;
    if (!this.session.isOpen) {
      // Only the peer's first frames, while our hello is signed; a peer that floods before
      // then loses the excess and resends it after the hellos.
      if (this.pendingIn.length < 1024) this.pendingIn.push(data);
      this.openDelivery(); // the peer's hello may arrive before our open event
      return;
    }
    this.receive(data);
  }

  receive(data) {
    this.session.receive(() => this.now(), data).then(() => this.flush());
  }

  onTransportDown(why) {
    if (this.byeDrain) return this.stop('peer said bye');
    if (this.intentional || this.state === PeerState.Unreachable) return;
    const wasConnected = this.state === PeerState.Connected;
    this.closeConnection();
    if (wasConnected) {
      this.witness('peer_disconnected', { reason: why, unacknowledged: this.session.unacknowledged });
      this.setState(PeerState.Reconnecting);
      clearTimeout(this.attemptTimer);
      this.attemptTimer = null;
      this.downSince = this.now();
      this.failedAttempts = 0;
      this.schedule();
    } else if (this.attemptTimer) {
      clearTimeout(this.attemptTimer);
      this.attemptTimer = null;
      this.attemptFailed(why);
    }
  }

  attemptFailed(why) {
    this.closeConnection();
    if (!this.everConnected && this.failedAttempts === 0) this.downSince = this.now();
    this.failedAttempts++;
    this.witness('reconnection_attempt_failed', {
      attempt_number: this.failedAttempts,
      strategy: this.strategy(),
      reason: why,
    });
    this.retryOrGiveUp(`peer permanently unreachable after ${this.failedAttempts} attempts`);
  }

  refuse(reason) {
    this.authFailures++;
    this.witness('peer_auth_failed', { reason, consecutive_failures: this.authFailures });
    const sid = this.sid;
    queueMicrotask(() => {
      if (this.sid !== sid || this.intentional) return;
      this.cancelTimers();
      this.closeConnection();
      this.failedAttempts = this.authFailures;
      this.downSince = this.now();
      this.retryOrGiveUp(`peer failed authentication ${this.authFailures} times`);
    });
  }

  retryOrGiveUp(givingUpReason) {
    if (this.failedAttempts >= this.agent.healing.maxRetries) {
      this.witness('peer_permanently_unreachable', { failed_attempts: this.failedAttempts });
      this.setState(PeerState.Unreachable);
      this.failAll(givingUpReason);
      return;
    }
    this.setState(PeerState.Reconnecting);
    this.schedule();
  }

  // Connections go through TURN (relay candidates only) from now on once turnAfterFailures
  // attempts failed and a turn: server is configured.
  fallBackToTurnIfDue() {
    const h = this.agent.healing;
    if (this.useRelay || this.failedAttempts < h.turnAfterFailures || !this.agent.turnAvailable) return;
    this.useRelay = true;
    this.witness('reconnection_using_turn', { failed_attempts: this.failedAttempts });
  }

  schedule() {
    const h = this.agent.healing;
    this.fallBackToTurnIfDue();
    const delay = backoffDelay(h, this.failedAttempts);
    this.witness('reconnection_attempt_scheduled', {
      attempt_number: this.failedAttempts + 1,
      backoff_delay_ms: delay,
      strategy: this.strategy(),
      failed_attempts: this.failedAttempts,
    });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.attempt(), delay);
  }

  // ---- delivery ----

  // What the open channel holds plus what waits in the link, or null without an open channel.
  bufferedAmount() {
    if (!this.conn || !this.conn.isOpen) return null;
    return this.conn.bufferedAmount + this.session.backlogBytes;
  }

  enqueue(message, meta) {
    const taken = this.session.enqueue(this.now(), message, 0, meta);
    if (taken) this.sent(message, 0);
    this.flush();
    return taken;
  }

  // ifmessage_sent, as the C++ agent witnesses a message its link took.
  sent(message, hops) {
    if (!this.agent.listens('ifmessage_sent') && !this.agent.listens('witness')) return;
    this.witness('ifmessage_sent', {
      message_id: message.id,
      sequence_num: message.sequence_num,
      destination: message.destination,
      priority: message.priority,
      hops,
      buffer_amount: this.conn?.isOpen ? this.conn.bufferedAmount : 0,
    });
  }

  pump() {
    this.session.pump(this.now());
    this.flush();
  }

  failAll(reason) {
    for (const e of this.session.dropAll()) {
      this.agent._witness('message_undeliverable', this.peerId, {
        message_id: e.message.id,
        reason,
      });
      e.meta?.reject?.(new Error(`not delivered to ${this.peerId}: ${reason}`));
    }
  }

  // Sends what the session produced and handles its events.
  flush() {
    const out = this.session.takeOutput();
    const conn = this.conn;
    if (out.length && conn) {
      try {
        for (const o of out) {
          conn.send(o.data);
          this.stats.sent++;
          this.stats.bytesSent += o.data.length;
        }
      } catch (e) {
        this.onTransportDown(`send failed: ${e.message}`);
      }
    }
    for (const ev of this.session.takeEvents()) {
      switch (ev.type) {
        case 'authenticated':
          this.authFailures = 0;
          break;
        case 'auth_failed':
          this.refuse(ev.reason);
          break;
        case 'rejected':
          this.witness('ifmessage_rejected', { reason: ev.reason, message_id: ev.messageId });
          break;
        case 'released':
          for (const e of ev.entries) e.meta?.resolve?.();
          break;
        case 'peer_restarted':
          this.witness('peer_restarted', {
            incarnation: ev.incarnation,
            unacknowledged: ev.unacknowledged,
            waiting: ev.waiting,
            delivered_from_old: ev.deliveredFromOld,
          });
          break;
        case 'peer_state_regressed':
          this.witness('peer_state_regressed', { priority: PRIORITIES[ev.lane], lost: ev.lost });
          break;
        case 'batch_sent':
          if (ev.coalesced) this.stats.coalesced++;
          else this.stats.batches++;
          break;
      }
    }
    this.scheduleTick();
  }

  // A requested acknowledgement waits while channel messages that came with it are still being
  // handled (their signature checks finish in later turns) or a send to this peer is being
  // signed (a reply carries the ack): one ack for all of them, or none. Both call flush or
  // scheduleTick when they are done.
  busy() {
    return this.session.receiving > 0 || this.signing > 0;
  }

  scheduleTick() {
    const due = this.session.nextDeadline(this.busy());
    if (due === this.tickAt) return;
    this.cancelTick?.();
    this.cancelTick = null;
    this.tickAt = due;
    if (due === null || due === undefined) return;
    const run = () => {
      this.cancelTick = null;
      this.tickAt = null;
      this.session.tick(this.now(), this.busy());
      this.flush();
    };
    const wait = due - this.now();
    if (wait <= 0) {
      // Due now (frames gathered in this turn, an ack asked for): right after the turn, not a
      // timer's 1 ms later.
      this.cancelTick = afterTurn(run);
    } else {
      const t = setTimeout(run, Math.max(0, wait));
      this.cancelTick = () => clearTimeout(t);
    }
  }

  dispose() {
    this.cancelTimers();
    this.cancelTick?.();
    this.closeConnection();
  }
}
