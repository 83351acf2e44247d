// TypeScript declarations of the ifmesh package (Node.js entry and browser entry alike).

export type Priority = 'control' | 'high' | 'normal' | 'low';
export type PeerStateName = 'connecting' | 'connected' | 'reconnecting' | 'unreachable' | 'disconnected';
export type QualityMode = 'HIGH' | 'MEDIUM' | 'LOW';
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** An IFMessage as delivered to `message` listeners (docs/link-protocol.md section 5). */
export interface IFMessage {
  id: string;
  timestamp: string;
  level: number;
  source: string;
  destination: string;
  version: '2.1';
  payload: Json;
  sequence_num: number;
  trace_id: string;
  priority: Priority;
  incarnation: number;
  signature?: string;
}

export interface HealingOptions {
  initialDelay?: number;
  multiplier?: number;
  maxDelay?: number;
  jitter?: number;
  maxRetries?: number;
  /** Failed direct attempts before attempts go through TURN, relay candidates only (3); 0: from the first. */
  turnAfterFailures?: number;
  attemptTimeout?: number;
}

export type KeyInput = Identity | string | Uint8Array | ArrayBuffer | JsonWebKey | { seed: Uint8Array };

export interface AgentOptions {
  /** 1 to 128 characters of A-Z a-z 0-9 . _ : @ - */
  id: string;
  /** ws:// or wss:// URL of `ifmesh signal`. */
  signalingUrl: string;
  /** Auth token when the server runs with a secret (`ifmesh token`). */
  token?: string;
  /** Ed25519 identity: an Identity, PEM or PKCS #8 DER, a JWK, or {seed}. Default: a fresh key. */
  keys?: KeyInput;
  /** stun: servers serve direct attempts, turn: servers (with username and credential) the attempts through TURN. */
  iceServers?: RTCIceServer[];
  /** Extra RTCPeerConnection configuration (node-datachannel takes e.g. bindAddress). */
  rtcConfig?: Record<string, unknown>;
  /** Node.js only: the one local address ICE gathers on ('127.0.0.1' for loopback). */
  localAddress?: string;
  /**
   * The WebRTC implementation. Browser: the page's. Node.js: ifmesh's addon when
   * $IFMESH_NODE_ADDON names it, else node-datachannel's (nodeDataChannelRTCPeerConnection()).
   */
  RTCPeerConnection?: typeof RTCPeerConnection;
  WebSocket?: typeof WebSocket;
  /**
   * As the C++ agent's `IdentityConfig::messageSignatures`: 'always' (default) signs and requires
   * a signature on every message; 'relayed' only on messages that pass through a relay. A
   * signature that is present is always checked.
   */
  messageSignatures?: 'always' | 'relayed';
  maxClockSkewMs?: number;
  maxMessageBytes?: number;
  /**
   * How long an acknowledgement of a message that did not ask for a prompt one ("r") waits for
   * a message to carry it (ms, default 20). A message that asks is acknowledged when the turn
   * that delivered it is over.
   */
  ackDelayMs?: number;
  healing?: HealingOptions;
  /** Decoder for compressed frames (the Node entry supplies fzstd's). */
  zstdDecompress?: (bytes: Uint8Array, size: number) => Uint8Array;
  /** IFMessage level of sent messages (default 2). */
  level?: number;
  /** Full mesh (default) or hub and spoke, as `ifmesh agent --connect hub=ID`. */
  topology?: 'all' | { hub: string };
  /** The bandwidth adapter (the C++ defaults: 100 ms, 512/1024/256/128 KiB, 0/50/200 ms). */
  bandwidth?: Partial<QualityConfig>;
  /**
   * A state store (docs/durability.md): the incarnation, the generated key, sequences, replay
   * window, link counters and unacknowledged messages survive a crash. Node.js: `{directory,
   * syncToDisk?}` (DIR/journal.jsonl); anywhere: `{journal}`, e.g. `new IndexedDbJournal(id)`.
   */
  state?: { directory?: string; syncToDisk?: boolean; journal?: StateJournal };
}

/** Where a StateStore keeps its journal: FileJournal (Node.js), IndexedDbJournal (browsers). */
export interface StateJournal {
  /** Everything written so far ('' for a new store). */
  load(): Promise<string>;
  /** Writes text after it; resolves once durable. */
  append(text: string): Promise<void>;
  /** Replaces all of it atomically; resolves once durable. */
  replace(text: string): Promise<void>;
  close(): Promise<void>;
}

/** Node.js entry only: DIR/journal.jsonl, fdatasync per commit unless syncToDisk is false. */
export declare class FileJournal implements StateJournal {
  constructor(directory: string, options?: { syncToDisk?: boolean });
  load(): Promise<string>;
  append(text: string): Promise<void>;
  replace(text: string): Promise<void>;
  close(): Promise<void>;
}

/** IndexedDB database `ifmesh-state:<name>`, strict durability, one page at a time (Web Lock). */
export declare class IndexedDbJournal implements StateJournal {
  constructor(name: string);
  load(): Promise<string>;
  append(text: string): Promise<void>;
  replace(text: string): Promise<void>;
  close(): Promise<void>;
}

/** The agent's state in memory and in a journal, with group commit after each event-loop turn. */
export declare class StateStore {
  static open(journal: StateJournal): Promise<StateStore>;
  readonly incarnation: number;
  /** Commits handed to the journal, and those it reported durable. */
  readonly written: number;
  readonly durable: number;
  storedPeers(): string[];
  /** Resolves once everything written so far is durable. */
  whenDurable(): Promise<void>;
  close(): Promise<void>;
}

export interface QualityConfig {
  checkInterval: number;
  highToMedium: number;
  mediumToLow: number;
  lowToMedium: number;
  mediumToHigh: number;
  batchDelays: { HIGH: number; MEDIUM: number; LOW: number };
}

export declare const QUALITY_DEFAULTS: Readonly<QualityConfig>;
export declare class QualityController {
  constructor(config?: Partial<QualityConfig>);
  readonly config: QualityConfig;
  mode: QualityMode;
  transitions: number;
  samples: number;
  peakBuffered: number;
  update(maxBuffered: number, avgBuffered: number): boolean;
  readonly batchDelay: number;
}

export interface SendOptions {
  priority?: Priority;
  traceId?: string;
  level?: number;
}

export interface SendResult {
  id: string;
  sequence: number;
}

export interface PeerInfo {
  id: string;
  state: PeerStateName;
  unacknowledged: number;
  inDirectory: boolean;
}

export interface AgentStats {
  id: string;
  incarnation: number;
  messagesSent: number;
  messagesAcknowledged: number;
  messagesReceived: number;
  messagesRejected: number;
  messagesForwarded: number;
  quality: { mode: QualityMode; transitions: number; peakBuffered: number; batchesSent: number };
  links: Record<
    string,
    {
      state: PeerStateName;
      unacknowledged: number;
      queuedBytes: number;
      channelMessagesSent: number;
      channelMessagesReceived: number;
      bytesSent: number;
      bytesReceived: number;
    }
  >;
}

/** A witness event: the C++ agent's event name and metadata fields, flattened. */
export interface WitnessEvent {
  event: string;
  agent_id: string;
  peer_id: string;
  [field: string]: unknown;
}

export type WitnessEventName =
  | 'peer_connected'
  | 'peer_reconnected_successfully'
  | 'peer_disconnected'
  | 'peer_auth_failed'
  | 'peer_restarted'
  | 'peer_permanently_unreachable'
  | 'reconnection_attempt_started'
  | 'reconnection_attempt_failed'
  | 'reconnection_attempt_scheduled'
  | 'reconnection_using_turn'
  | 'ifmessage_sent'
  | 'ifmessage_received'
  | 'ifmessage_rejected'
  | 'message_undeliverable'
  | 'link_refused'
  | 'peer_key_rejected'
  | 'bandwidth_quality_changed'
  | 'forward_held'
  | 'peer_state_regressed'
  | 'state_store_failed';

export declare const PeerState: {
  readonly Connecting: 'connecting';
  readonly Connected: 'connected';
  readonly Reconnecting: 'reconnecting';
  readonly Unreachable: 'unreachable';
  readonly Disconnected: 'disconnected';
};

export declare class Agent {
  constructor(options: AgentOptions);
  readonly id: string;
  readonly incarnation: number;
  readonly publicKey: string | undefined;
  identity: Identity | undefined;
  /** Creates or imports the key, registers with the signaling server, links to every agent. */
  start(): Promise<this>;
  /** Resolves once the next hop (the destination, or the hub) acknowledged the message. */
  send(to: string, payload: Json, options?: SendOptions): Promise<SendResult>;
  broadcast(payload: Json, options?: SendOptions): Promise<SendResult[]>;
  /** Resolves once every message sent so far is in the state store (at once without one). */
  durable(): Promise<void>;
  peers(): PeerInfo[];
  stats(): AgentStats;
  qualityMode(peer: string): QualityMode;
  close(): Promise<void>;

  on(event: 'message', fn: (message: IFMessage, info: { from: string; hops: number }) => void): this;
  on(event: 'peerState', fn: (peer: string, state: PeerStateName) => void): this;
  on(event: 'registered', fn: (agents: string[]) => void): this;
  on(event: 'quality', fn: (mode: QualityMode, before: QualityMode) => void): this;
  on(event: 'signalingError', fn: (error: { code: string; message: string }) => void): this;
  on(event: 'witness' | WitnessEventName, fn: (event: WitnessEvent) => void): this;
  off(event: string, fn: (...args: any[]) => void): this;
  once(event: string, fn: (...args: any[]) => void): this;
}

export declare class Identity {
  static generate(): Promise<Identity>;
  static import(key: Exclude<KeyInput, Identity>): Promise<Identity>;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly publicKeyBytes: Uint8Array;
  /** base64 of the raw 32-byte key, as `register.public_key` carries it. */
  readonly publicKeyBase64: string;
  exportPkcs8(): Promise<Uint8Array>;
  exportPem(): Promise<string>;
  exportJwk(): Promise<JsonWebKey>;
  signBytes(bytes: Uint8Array): Promise<Uint8Array>;
  signHello(ownId: string, incarnation: number, fingerprint: string, peerId: string): Promise<string>;
  signMessage(message: Omit<IFMessage, 'signature'>): Promise<string>;
}

export declare class KeyDirectory {
  /** False for a string that is not a base64 Ed25519 key (what was known stays). */
  set(id: string, base64: string | undefined): boolean;
  delete(id: string): void;
  has(id: string): boolean;
  base64(id: string): string | undefined;
  key(id: string): Promise<CryptoKey | null>;
}

export interface Hello {
  type: 'hello';
  version: number;
  lanes: number[];
  inc: number;
  peer?: number;
  fp?: string;
  sig?: string;
}

export declare function verifyHello(
  hello: Hello,
  peerKey: CryptoKey | null,
  peerId: string,
  ownId: string,
  remoteFingerprint: string,
): Promise<null | 'unknown_peer_key' | 'missing_signature' | 'fingerprint_mismatch' | 'bad_signature'>;
export declare function verifyMessageSignature(publicKey: CryptoKey, message: IFMessage): Promise<boolean>;

export type SessionEvent =
  | { type: 'authenticated' }
  | { type: 'auth_failed'; reason: string }
  | { type: 'rejected'; reason: string; messageId: string }
  | { type: 'released'; messages: number; entries: { message: IFMessage; meta: unknown }[] }
  | { type: 'peer_restarted'; unacknowledged: number; waiting: number; deliveredFromOld: number; incarnation: number }
  | { type: 'batch_sent'; frames: number };

export interface SessionConfig {
  ownId: string;
  peerId: string;
  incarnation: number;
  maxMessageBytes?: number;
  queueMaxMessages?: number;
  queueMaxBytes?: number;
  ackEvery?: number;
  ackDelay?: number;
  /** How long past due a requested ack may wait while the caller is busy (tick's `hold`; ms, default 5). */
  promptAckHold?: number;
  verifyHello(hello: Hello, remoteFingerprint: string): Promise<string | null>;
  deliver(message: IFMessage, hops: number, lane: number): boolean | Promise<boolean>;
  decompress?: (bytes: Uint8Array, size: number) => Uint8Array;
}

/** The sans-IO link session (docs/link-protocol.md section 7); times are in milliseconds. */
export declare class LinkSession {
  constructor(config: SessionConfig);
  readonly ready: boolean;
  readonly isOpen: boolean;
  readonly unacknowledged: number;
  readonly queuedBytes: number;
  readonly backlogBytes: number;
  readonly waitingMessages: number;
  peerIncarnation: number;
  open(connection: {
    localFingerprint: string;
    helloSignature: string;
    remoteFingerprint: string;
    channelFull?: (pending: number) => boolean;
  }): void;
  close(): void;
  receive(now: number | (() => number), data: string | ArrayBuffer | Uint8Array): Promise<void>;
  /**
   * Queues a message; one with `meta` is one somebody waits for: its frame asks the peer for a
   * prompt acknowledgement, and `meta` comes back in the `released` event.
   */
  enqueue(now: number, message: IFMessage, hops?: number, meta?: unknown): boolean;
  pump(now: number): void;
  /** `hold`: the caller is busy (receiving, signing a reply): a requested ack may wait a little. */
  tick(now: number, hold?: boolean): void;
  nextDeadline(hold?: boolean): number | null;
  /** Channel messages given to receive() and not yet handled. */
  readonly receiving: number;
  resumeReceiving(): void;
  setBatchDelay(ms: number): void;
  takeOutput(): { data: string; binary: boolean }[];
  takeEvents(): SessionEvent[];
  takeAll(): { message: IFMessage; meta: unknown }[];
}

export declare class QueueFullError extends Error {
  code: 'QueueFull';
}
export declare class MessageTooLargeError extends Error {
  code: 'MessageTooLarge';
}

export declare class SignalingError extends Error {
  code: string;
}
export declare class SignalingClient {
  constructor(options: {
    url: string;
    agentId: string;
    token?: string;
    publicKey?: string;
    WebSocket?: typeof WebSocket;
  });
  connect(): Promise<void>;
  send(to: string, type: string, body?: Record<string, unknown>): boolean;
  /** Resolves once the server closed the socket too, or after timeoutMs (default 2000). */
  close(timeoutMs?: number): Promise<void>;
  on(event: string, fn: (...args: any[]) => void): this;
}

export declare class ReplayGuard {
  constructor(windowMs?: number, maxSources?: number);
  accept(message: IFMessage, timestampMs: number, nowMs: number): boolean;
}

export declare const HEALING_DEFAULTS: Required<HealingOptions>;
export declare function backoffDelay(healing: Required<HealingOptions>, attempt: number, random?: () => number): number;

/**
 * Node.js entry only: a W3C RTCPeerConnection over ifmesh's own DataChannel stack, through the
 * addon the project's CMake builds (build/node/ifmesh_rtc.node; default path $IFMESH_NODE_ADDON).
 */
export declare function nativeRTCPeerConnection(addonPath?: string): typeof RTCPeerConnection;

/** Node.js entry only: node-datachannel's W3C RTCPeerConnection (the default without the addon). */
export declare function nodeDataChannelRTCPeerConnection(): Promise<typeof RTCPeerConnection>;

/** Node.js entry only: fzstd's decoder for compressed frames. */
export declare function zstdDecompress(bytes: Uint8Array, size: number): Uint8Array;

export declare namespace codec {
  const PROTOCOL_VERSION: 1;
  const CHANNEL_LABEL: 'if-agent-messaging';
  function canonicalJson(value: Json): string;
  function helloSigningInput(senderId: string, incarnation: number, fingerprint: string, receiverId: string): string;
  function messageSigningInput(message: Omit<IFMessage, 'signature'>): string;
  function serializeIFMessage(message: IFMessage): string;
  function validateIFMessage(value: unknown): IFMessage;
  function encodeHello(hello: { lanes: number[]; inc: number; peer?: number; fp: string; sig: string }): string;
  function encodeAck(seq: number, lane: number): string;
  function encodeMsg(seq: number, hops: number, lane: number, ack: number, messageJson: string, ackRequested?: boolean): string;
  function encodeBatch(frames: string[]): string;
  function decodeText(text: string): Array<Record<string, unknown> & { type: string }>;
  function decodeBinary(
    data: ArrayBuffer | Uint8Array,
    maxTextBytes: number,
    decompress?: (bytes: Uint8Array, size: number) => Uint8Array,
  ): Array<Record<string, unknown> & { type: string }>;
  function zstdContentSize(bytes: Uint8Array): number | null;
  function sdpFingerprint(sdp: string): string;
  function parseTimestamp(ts: string): number | null;
  function formatTimestamp(ms: number): string;
  function isValidAgentId(id: unknown): boolean;
  function bytesToBase64(bytes: Uint8Array): string;
  function base64ToBytes(text: string, length?: number): Uint8Array | null;
  function utf8Bytes(text: string): Uint8Array;
}
