// The delivery session of one agent link (docs/link-protocol.md section 7), sans-IO: lanes, link
// sequences, acknowledgements, resends, duplicates, the hello and its proof, incarnations and
// batching. Time (milliseconds) and received channel messages come in; channel messages to send
// and events come out. It outlives the connections it runs over: open() and close() mark each.
// It follows src/mesh/link_session.cpp, the C++ reference, rule for rule.
//
// Two steps are asynchronous in JavaScript (WebCrypto): the hello's verification and the
// delivery of a message (its signature check). Received channel messages are therefore handled
// one after another on an internal promise chain; receive() returns when its own are done.
import {
  LANES,
  BATCH_OVERHEAD,
  MAX_BATCH_BYTES,
  MAX_JSON_DEPTH,
  NORMAL_LANE,
  PROTOCOL_VERSION,
  decodeBinary,
  decodeText,
  encodeAck,
  encodeBatch,
  encodeHello,
  encodeMsg,
  ifMessageDepth,
  isUrgentLane,
  laneOf,
  maxMsgFrameBytes,
  preparePayload,
  serializeIFMessage,
  utf8Length,
} from './codec.js';

export class QueueFullError extends Error {
  constructor(message) {
    super(message);
    this.name = 'QueueFullError';
    this.code = 'QueueFull';
  }
}
export class MessageTooLargeError extends Error {
  constructor(message) {
    super(message);
    this.name = 'MessageTooLargeError';
    this.code = 'MessageTooLarge';
  }
}

const DEFAULTS = {
  maxMessageBytes: 256 * 1024,
  queueMaxMessages: 10000,
  queueMaxBytes: 16 * 1024 * 1024,
  ackEvery: 64,
  ackDelay: 5000,
  // How long past due a requested acknowledgement may wait while the caller is busy (tick's
  // `hold`): receiving frames that came with the request, or signing a reply that carries it.
  promptAckHold: 5,
};

// What one link holds for its neighbour, one lane per priority: waiting (no link sequence yet),
// then sent and kept until acknowledged.
// `acked`: the last link sequence the peer acknowledged. With a state store a message may leave
// only once the commit that holds it is durable (entry.commit).
class SendQueue {
  constructor() {
    this.lanes = Array.from({ length: LANES }, () => ({ waiting: [], sent: [], nextSeq: 1, acked: 0 }));
    this.messages = 0;
    this.bytes = 0;
    this.waitingBytes = 0;
  }
  fits(bytes, maxMessages, maxBytes) {
    return this.messages + 1 <= maxMessages && this.bytes + bytes <= maxBytes;
  }
  push(entry) {
    this.lanes[entry.lane].waiting.push(entry);
    this.messages++;
    this.bytes += entry.json.length;
    this.waitingBytes += entry.json.length;
  }
  nextLane(durable = Infinity) {
    for (let l = 0; l < LANES; l++) {
      const head = this.lanes[l].waiting[0];
      if (head && !(head.commit > durable)) return l;
    }
    return -1;
  }
  send(lane, makeFrame) {
    const l = this.lanes[lane];
    const e = l.waiting.shift();
    this.waitingBytes -= e.json.length;
    this.bytes -= e.json.length;
    e.seq = l.nextSeq++;
    e.frame = makeFrame(e);
    this.bytes += e.frame.length;
    l.sent.push(e);
    return e;
  }
  acknowledge(lane, seq) {
    const sent = this.lanes[lane].sent;
    let n = 0;
    while (n < sent.length && sent[n].seq <= seq) n++;
    if (!n) return [];
    const released = sent.splice(0, n);
    this.lanes[lane].acked = released[n - 1].seq;
    this.messages -= n;
    for (const e of released) this.bytes -= e.frame.length;
    return released;
  }
  // Numbers a lane's sent messages on from `after` (same order).
  renumber(lane, after, makeFrame) {
    const l = this.lanes[lane];
    let seq = after;
    for (const e of l.sent) {
      this.bytes -= e.frame.length;
      e.seq = ++seq;
      e.frame = makeFrame(e);
      this.bytes += e.frame.length;
    }
    l.nextSeq = seq + 1;
    l.acked = after;
  }
  // Messages a state store kept, as sent before; renumber() gives them their sequences.
  restore(lane, entries) {
    for (const e of entries) e.frame = '';
    this.lanes[lane].sent.push(...entries);
    this.messages += entries.length;
  }
  waitingMessages() {
    return this.lanes.reduce((n, l) => n + l.waiting.length, 0);
  }
  takeAll() {
    const all = [];
    for (const l of this.lanes) {
      all.push(...l.sent, ...l.waiting);
      l.sent = [];
      l.waiting = [];
    }
    this.messages = this.bytes = this.waitingBytes = 0;
    return all;
  }
}

export class LinkSession {
  // config: {ownId, peerId, incarnation, maxMessageBytes?, queueMaxMessages?, queueMaxBytes?,
  //   ackEvery?, ackDelay?, promptAckHold?, coalesce? (false),
  //   verifyHello(hello, remoteFingerprint) -> Promise<reason|null>,
  //   deliver(message, hops, lane, check) -> boolean | Promise<boolean>, decompress?(bytes, size),
  //   precheck?(message, hops) -> check (handed to deliver),
  //   store? (a StateStore link view, state_store.js: the session keeps its outbox and counters
  //   there, sends a message only once it is durable and acknowledges only durable deliveries)}
  constructor(config) {
    this.config = { ...DEFAULTS, ...config };
    this.queue = new SendQueue();
    // delivered: the last sequence taken or being delivered; settled: the last one delivered;
    // ackable: the last one that may be acknowledged (settled, and with a store durable).
    this.received = Array.from({ length: LANES }, () => ({
      delivered: 0,
      settled: 0,
      ackable: 0,
      ackSent: 0,
      resyncRequestedAt: null,
      ackRequestedUpTo: 0, // the last sequence whose sender asked for a prompt ack
    }));
    this.peerIncarnation = 0;
    this.store = this.config.store ?? null;
    this.durableWaits = []; // {commit, lane, seq}: deliveries waiting for their commit
    this.ackDue = null;
    this.ackPrompt = false; // ackDue is a requested acknowledgement's (due at once)
    this.receiving = 0; // channel messages given to receive() and not yet handled
    this.batchDelay = 0;
    this.batch = [];
    this.batchBytes = 0;
    this.batchLimit = MAX_BATCH_BYTES;
    this.batchDue = null;
    this.output = [];
    this.outputBytes = 0;
    this.events = [];
    this.isOpen = false;
    this.authenticated = false;
    this.refused = false;
    this.connection = null;
    this.generation = 0; // one per connection: frames of an older one are ignored
    this.chain = Promise.resolve();
  }

  // What a state store held for this link (its restored view): the peer's incarnation, the
  // counters, and the messages not acknowledged, sent again after the next hello.
  restore(stored) {
    this.peerIncarnation = stored.incarnation;
    for (let lane = 0; lane < LANES; lane++) {
      const r = this.received[lane];
      r.delivered = r.settled = r.ackable = r.ackSent = stored.delivered[lane];
      const entries = stored.outbox[lane].map((e) => ({
        message: JSON.parse(e.json),
        json: e.json,
        hops: e.hops,
        lane,
        key: e.key,
        ackRequested: false,
      }));
      // Numbered on from what the peer acknowledged: the sequences they had.
      this.queue.restore(lane, entries);
      this.#renumber(lane, stored.acked[lane]);
    }
  }

  // What the store keeps of the link's counters.
  storedCounters() {
    return {
      incarnation: this.peerIncarnation,
      delivered: this.received.map((r) => r.settled),
      acked: this.queue.lanes.map((l) => l.acked),
    };
  }

  // Commits up to `commit` are durable: their deliveries may be acknowledged, their messages sent.
  durable(now, commit) {
    let n = 0;
    while (n < this.durableWaits.length && this.durableWaits[n].commit <= commit) {
      const w = this.durableWaits[n++];
      const r = this.received[w.lane];
      if (w.seq > r.ackable) r.ackable = w.seq;
    }
    if (n) {
      this.durableWaits.splice(0, n);
      this.scheduleAck(now);
    }
    this.pump(now);
  }

  get ready() {
    return this.isOpen && this.authenticated;
  }

  // connection: {localFingerprint, helloSignature, remoteFingerprint, channelFull(pending),
  // maxChannelMessage (the channel's max-message-size; 0 or absent: no limit of its own)}.
  // Says hello at once: it precedes everything else we send on a connection.
  open(connection) {
    this.close();
    this.connection = connection;
    this.batchLimit = Math.min(MAX_BATCH_BYTES, connection.maxChannelMessage || Infinity);
    this.isOpen = true;
    this.sendHello();
  }

  close() {
    this.generation++;
    this.isOpen = false;
    this.connection = null;
    this.authenticated = this.refused = false;
    // What the batch held is still in the queue as sent: resent after the next hello.
    this.batch = [];
    this.batchBytes = 0;
    this.batchDue = null;
    // Acks owed go out in the next connection's hello.
    this.clearAckDue();
    this.output = [];
    this.outputBytes = 0;
  }

  setBatchDelay(ms) {
    this.batchDelay = ms;
  }

  takeOutput() {
    const out = this.output;
    this.output = [];
    this.outputBytes = 0;
    return out;
  }
  takeEvents() {
    const ev = this.events;
    this.events = [];
    return ev;
  }
  event(type, fields = {}) {
    this.events.push({ type, ...fields });
  }

  get unacknowledged() {
    return this.queue.messages;
  }
  get queuedBytes() {
    return this.queue.bytes;
  }
  get backlogBytes() {
    return this.queue.waitingBytes + this.batchBytes;
  }
  get waitingMessages() {
    return this.queue.waitingMessages();
  }

  emit(text) {
    this.outputBytes += text.length;
    this.output.push({ data: text, binary: false });
  }

  // Without a batch delay, `coalesce` still gathers the non-urgent frames of one turn: they are
  // due at once, and the caller flushes them when its turn ends (tick), as one batch.
  transmit(now, frame, urgent) {
    if (!this.isOpen) return; // kept in the queue, resent after the next hello
    const gather = this.batchDelay > 0 || this.config.coalesce;
    if (urgent || (!gather && this.batch.length === 0)) return this.emit(frame);
    // In UTF-8 bytes, as the channel counts them, with the wrapper and one comma per frame.
    const bytes = utf8Length(frame);
    if (this.batch.length && BATCH_OVERHEAD + this.batchBytes + bytes > this.batchLimit) {
      this.flushBatch();
    }
    this.batchBytes += bytes + 1;
    this.batch.push(frame);
    if (this.batchDue === null) this.batchDue = this.batchDelay > 0 ? now + this.batchDelay : now;
  }

  flushBatch() {
    this.batchDue = null;
    if (!this.batch.length) return;
    if (this.batch.length === 1) {
      this.emit(this.batch[0]);
    } else {
      this.emit(encodeBatch(this.batch));
      this.event('batch_sent', { frames: this.batch.length, coalesced: this.batchDelay === 0 });
    }
    this.batch = [];
    this.batchBytes = 0;
  }

  // Runs what is due. `hold`: the caller is still busy with what a requested acknowledgement
  // should wait for (frames that arrived with it, a reply being signed that will carry it), so
  // that acknowledgement waits, up to promptAckHold past due.
  tick(now, hold = false) {
    const ackDue = this.#ackDeadline(hold);
    if (ackDue !== null && now >= ackDue) {
      this.clearAckDue();
      this.sendAcks(now);
    }
    if (this.batchDue !== null && now >= this.batchDue) {
      this.flushBatch();
      this.pump(now);
    }
  }

  nextDeadline(hold = false) {
    const ackDue = this.#ackDeadline(hold);
    if (ackDue !== null && this.batchDue !== null) return Math.min(ackDue, this.batchDue);
    return ackDue ?? this.batchDue;
  }

  #ackDeadline(hold) {
    if (this.ackDue === null) return null;
    return hold && this.ackPrompt ? this.ackDue + this.config.promptAckHold : this.ackDue;
  }

  clearAckDue() {
    this.ackDue = null;
    this.ackPrompt = false;
  }

  sendHello() {
    if (!this.isOpen) return;
    this.emit(
      encodeHello({
        lanes: this.received.map((r) => r.ackable),
        inc: this.config.incarnation,
        peer: this.peerIncarnation,
        fp: this.connection.localFingerprint,
        sig: this.connection.helloSignature,
        // Only with a decoder may the peer send us compressed channel messages.
        readsZstd: typeof this.config.decompress === 'function',
      }),
    );
  }

  // Queues a validated IFMessage (hops: agents that forwarded it so far). `meta` travels with
  // it and comes back in the `released` event; a message with `meta` is one somebody waits for,
  // so its frame asks the peer for a prompt acknowledgement ("r", section 7). Throws
  // MessageTooLargeError, QueueFullError or TypeError (too deep, not serializable).
  enqueue(now, message, hops = 0, meta = undefined) {
    preparePayload(message);
    const json = serializeIFMessage(message);
    const frameBytes = maxMsgFrameBytes(hops, json);
    if (frameBytes > this.config.maxMessageBytes)
      throw new MessageTooLargeError(
        `IFMessage of ${frameBytes} bytes exceeds the ${this.config.maxMessageBytes}-byte limit`,
      );
    if (ifMessageDepth(message) > MAX_JSON_DEPTH)
      throw new TypeError(`IFMessage nested deeper than ${MAX_JSON_DEPTH} levels`);
    const c = this.config;
    if (!this.queue.fits(json.length, c.queueMaxMessages, c.queueMaxBytes)) {
      if (hops > 0) return false; // a forward is not taken; its sender keeps it
      throw new QueueFullError(
        `send queue to ${c.peerId} holds ${this.queue.messages} messages / ${this.queue.bytes} bytes; message ${message.id} not accepted`,
      );
    }
    const ackRequested = meta !== undefined && meta !== null;
    const lane = laneOf(message.priority);
    const entry = { message, json, hops, lane, meta, ackRequested };
    if (this.store) Object.assign(entry, this.store.add(lane, hops, json));
    this.queue.push(entry);
    this.pump(now);
    return true;
  }

  // Sends what waits: Control/High always, Normal/Low until the channel is full.
  pump(now) {
    if (!this.ready) return;
    const durable = this.store ? this.store.durable : Infinity;
    for (let lane = this.queue.nextLane(durable); lane >= 0; lane = this.queue.nextLane(durable)) {
      const urgent = isUrgentLane(lane);
      if (!urgent && this.connection.channelFull?.(this.outputBytes)) return;
      const e = this.queue.send(lane, (w) =>
        encodeMsg(w.seq, w.hops, lane, this.takeAck(lane), w.json, w.ackRequested),
      );
      this.transmit(now, e.frame, urgent);
    }
  }

  resumeReceiving() {
    for (const r of this.received) r.resyncRequestedAt = null;
    this.sendHello();
  }

  // The agent is closing the link (the C++ Session::closing): what waits in a batch goes out, then
  // an acknowledgement of every delivery not yet acknowledged, so that a process that replaces
  // this one is not handed them again.
  closing(now) {
    this.flushBatch();
    this.clearAckDue();
    this.sendAcks(now, true);
  }

  // Everything queued, taken out of the session (the agent closes; a store keeps it).
  takeAll() {
    return this.queue.takeAll();
  }

  // Everything queued, given up: taken out of the session and of the store.
  dropAll() {
    this.store?.drop();
    return this.queue.takeAll();
  }

  resendSent(now) {
    for (let lane = 0; lane < LANES; lane++)
      for (const e of this.queue.lanes[lane].sent) this.transmit(now, e.frame, isUrgentLane(lane));
  }

  peerRestarted(incarnation) {
    const deliveredFromOld = this.received.reduce((n, r) => n + r.delivered, 0);
    this.event('peer_restarted', {
      unacknowledged: this.queue.messages,
      waiting: this.queue.waitingMessages(),
      deliveredFromOld,
      incarnation,
    });
    for (const r of this.received) {
      r.delivered = r.settled = r.ackable = r.ackSent = r.ackRequestedUpTo = 0;
      r.resyncRequestedAt = null;
    }
    this.durableWaits = [];
    this.clearAckDue();
    for (let lane = 0; lane < LANES; lane++) this.#renumber(lane, 0);
    this.peerIncarnation = incarnation;
    this.store?.countersChanged();
  }

  #renumber(lane, after) {
    this.queue.renumber(lane, after, (e) => encodeMsg(e.seq, e.hops, e.lane, 0, e.json, e.ackRequested));
  }

  // The same process acknowledges less than it did: its store lost what it had made durable
  // (restored from an older copy, a disk that dropped synced writes). The messages in between
  // are gone on both sides; numbering on from its count lets the lane go on instead of waiting
  // for a resend nobody can make.
  #peerLostState(hello) {
    for (let lane = 0; lane < LANES; lane++) {
      const acked = this.queue.lanes[lane].acked;
      if (hello.lanes[lane] >= acked) continue;
      this.event('peer_state_regressed', { lane, lost: acked - hello.lanes[lane] });
      this.#renumber(lane, hello.lanes[lane]);
      this.store?.countersChanged();
    }
  }

  acknowledged(lane, seq) {
    const released = this.queue.acknowledge(lane, seq);
    if (!released.length) return;
    if (this.store) {
      this.store.release(lane, released[released.length - 1].key);
      this.store.countersChanged();
    }
    this.event('released', { messages: released.length, entries: released });
  }

  takeAck(lane) {
    const r = this.received[lane];
    if (r.ackable <= r.ackSent) return 0;
    r.ackSent = r.ackable;
    if (this.received.every((o) => o.ackable <= o.ackSent)) this.clearAckDue();
    return r.ackable;
  }

  // `direct`: each ack leaves at once as its own channel message instead of joining the batch
  // of this turn.
  sendAcks(now, direct = false) {
    for (let lane = 0; lane < LANES; lane++) {
      const r = this.received[lane];
      if (r.ackable <= r.ackSent) continue;
      r.ackSent = r.ackable;
      this.transmit(now, encodeAck(r.ackable, lane), direct || isUrgentLane(lane));
    }
  }

  // An acknowledgement is owed: at once after ackEvery messages of a lane; due now when the
  // sender of an unacknowledged message asked for it (the caller ticks when its turn is over, so
  // the frames of that turn share one ack, or a reply of that turn carries it); otherwise after
  // ackDelay, unless a message of ours carries it first.
  scheduleAck(now) {
    let owed = false;
    let requested = false;
    for (const r of this.received) {
      if (r.ackable - r.ackSent >= this.config.ackEvery) {
        // At once, not when the turn is over: a turn that delivers many messages without
        // yielding (their signatures checked ahead) would hold the peer's queue until its end.
        // What this turn gathered goes first, so the channel keeps the order of the frames.
        this.clearAckDue();
        this.flushBatch();
        this.sendAcks(now, true);
        return;
      }
      owed = owed || r.ackable > r.ackSent;
      requested = requested || (r.ackable > r.ackSent && r.ackRequestedUpTo > r.ackSent);
    }
    if (!owed) return; // nothing owed: a reply already carried the ack
    if (requested) {
      if (this.ackDue === null || this.ackDue > now) this.ackDue = now;
      this.ackPrompt = true;
      return;
    }
    if (this.ackDue === null) this.ackDue = now + this.config.ackDelay;
  }

  // A channel message from the peer: a string (text) or bytes (binary). `now()` gives the time
  // when each frame is handled. The frames are decoded at once, and `precheck` starts on each
  // message (its signature check, which WebCrypto runs off the main thread) while earlier ones
  // are still being handled.
  receive(now, data) {
    const gen = this.generation;
    const frames =
      typeof data === 'string'
        ? decodeText(data)
        : decodeBinary(
            data,
            this.config.maxMessageBytes + MAX_BATCH_BYTES + 64,
            this.config.decompress,
          );
    // Only on a link whose peer proved its key: nobody else makes this agent verify signatures.
    if (this.config.precheck && this.authenticated && !this.refused)
      for (const f of frames) if (f.type === 'msg') f.check = this.config.precheck(f.message, f.hops);
    this.receiving++;
    const run = () => this.#receiveNow(gen, now, frames).finally(() => this.receiving--);
    this.chain = this.chain.then(run, run);
    return this.chain;
  }

  async #receiveNow(gen, now, frames) {
    if (gen !== this.generation) return;
    for (const frame of frames) {
      if (gen !== this.generation) return;
      await this.#handle(gen, typeof now === 'function' ? now() : now, frame);
    }
  }

  async #handle(gen, now, frame) {
    if (this.refused || !this.isOpen) return;
    if (frame.type === 'malformed')
      return this.event('rejected', { reason: frame.reason, messageId: frame.messageId ?? '' });
    if (frame.type === 'hello') return this.#onHello(gen, now, frame);
    if (!this.authenticated) return this.event('rejected', { reason: 'unauthenticated_link', messageId: '' });
    if (frame.type === 'ack') return this.acknowledged(frame.lane, frame.seq);
    if (frame.type === 'msg') return this.#onMsg(gen, now, frame);
  }

  async #onHello(gen, now, hello) {
    // The first hello of a connection counts at least everything the peer acknowledged on the
    // ones before; a later one may be older than an ack of this connection.
    const first = !this.authenticated;
    if (first) {
      const reason =
        hello.version !== PROTOCOL_VERSION
          ? 'unsupported_version'
          : await this.config.verifyHello(hello, this.connection.remoteFingerprint);
      if (gen !== this.generation) return;
      if (reason) {
        this.refused = true; // the rest of this connection's frames are ignored
        return this.event('auth_failed', { reason });
      }
      this.authenticated = true;
      this.event('authenticated');
    }
    if (hello.inc !== 0) {
      if (this.peerIncarnation !== 0 && hello.inc !== this.peerIncarnation)
        this.peerRestarted(hello.inc);
      else this.peerIncarnation = hello.inc;
    }
    if (hello.peer === undefined || hello.peer === this.config.incarnation) {
      for (let l = 0; l < LANES; l++) this.acknowledged(l, hello.lanes[l]);
      if (first && hello.peer !== undefined) this.#peerLostState(hello);
    }
    this.resendSent(now);
    this.pump(now);
  }

  async #onMsg(gen, now, msg) {
    if (msg.ack) this.acknowledged(msg.lane, msg.ack);
    if (msg.hops === 0 && msg.message.source !== this.config.peerId)
      return this.event('rejected', {
        reason: 'source does not match the sending peer',
        messageId: msg.message.id,
      });
    const r = this.received[msg.lane];
    if (msg.ackRequested && msg.seq <= r.delivered + 1)
      r.ackRequestedUpTo = Math.max(r.ackRequestedUpTo, msg.seq);
    if (msg.seq <= r.delivered) return this.scheduleAck(now);
    if (msg.seq !== r.delivered + 1) {
      if (r.resyncRequestedAt !== r.delivered) {
        r.resyncRequestedAt = r.delivered;
        this.sendHello();
      }
      return;
    }
    r.delivered = msg.seq;
    let taken;
    try {
      taken = await this.config.deliver(msg.message, msg.hops, msg.lane, msg.check);
    } catch {
      taken = false;
    }
    if (!taken) {
      // Held back: unacknowledged, so the peer resends it after our next hello.
      r.delivered = msg.seq - 1;
      r.resyncRequestedAt = r.delivered;
      return;
    }
    r.settled = msg.seq;
    if (this.store) {
      // Acknowledged once the commit that holds the counters is durable (durable()).
      this.durableWaits.push({ commit: this.store.commitOf(), lane: msg.lane, seq: msg.seq });
      this.store.countersChanged();
      return;
    }
    r.ackable = msg.seq;
    // A connection closed meanwhile: its successor's hello carries the acknowledgement.
    if (gen !== this.generation) return;
    this.scheduleAck(now);
  }
}

export { NORMAL_LANE };
