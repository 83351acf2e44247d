// ifmesh for any JavaScript environment with WebCrypto, WebSocket and RTCPeerConnection (a
// browser). Node.js imports src/node.js, which supplies `ws`, node-datachannel and a zstd decoder.
export { Agent, PeerState } from './agent.js';
export { Identity, KeyDirectory, verifyHello, verifyMessageSignature } from './identity.js';
export { LinkSession, QueueFullError, MessageTooLargeError } from './session.js';
export { SignalingClient, SignalingError } from './signaling.js';
export { ReplayGuard } from './replay_guard.js';
export { StateStore } from './state_store.js';
export { IndexedDbJournal } from './indexeddb_journal.js';
export { QualityController, QUALITY_DEFAULTS } from './quality.js';
export { backoffDelay, HEALING_DEFAULTS } from './peer_link.js';
export * as codec from './codec.js';
