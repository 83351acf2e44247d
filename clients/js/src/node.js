// ifmesh in Node.js: the environment-neutral agent with `ws` for signaling, a W3C
// RTCPeerConnection for WebRTC (ifmesh's own stack through its addon when $IFMESH_NODE_ADDON
// names it, node-datachannel's otherwise), node:crypto for Ed25519, and fzstd to read compressed
// frames.
import { WebSocket } from 'ws';
import { decompress } from 'fzstd';
import { Agent as BaseAgent } from './agent.js';
import { FileJournal } from './file_journal.js';
import { setEd25519Implementation } from './identity.js';
import { nativeRTCPeerConnection } from './native_rtc.js';
import { nodeEd25519 } from './node_ed25519.js';

export * from './index.js';
export { FileJournal, nativeRTCPeerConnection };

let polyfill = null;
// node-datachannel's RTCPeerConnection (libdatachannel), from npm with its binaries.
export async function nodeDataChannelRTCPeerConnection() {
  polyfill ??= import('node-datachannel/polyfill');
  return (await polyfill).RTCPeerConnection;
}

// The default: ifmesh's addon when $IFMESH_NODE_ADDON names it, since it measures a shorter echo
// round trip against C++ agents (README.md, "ifmesh's own stack in Node.js"); node-datachannel,
// which needs no build of ifmesh, otherwise.
async function defaultRTCPeerConnection() {
  if (process.env.IFMESH_NODE_ADDON) return nativeRTCPeerConnection(process.env.IFMESH_NODE_ADDON);
  return nodeDataChannelRTCPeerConnection();
}

setEd25519Implementation(nodeEd25519);

export function zstdDecompress(bytes, size) {
  return decompress(bytes, new Uint8Array(size));
}

// options.localAddress: the one address ICE gathers on (libjuice skips loopback unless it is
// bound to it, so loopback-only setups pass '127.0.0.1'). options.state.directory: a state
// directory (docs/durability.md), kept in DIR/journal.jsonl; state.syncToDisk (true).
export class Agent extends BaseAgent {
  constructor(options) {
    const rtcConfig = { ...(options?.rtcConfig ?? {}) };
    if (options?.localAddress) rtcConfig.bindAddress = options.localAddress;
    let state = options?.state;
    if (state?.directory && !state.journal)
      state = { ...state, journal: new FileJournal(state.directory, { syncToDisk: state.syncToDisk ?? true }) };
    super({
      WebSocket,
      zstdDecompress,
      RTCPeerConnection: options?.RTCPeerConnection ?? class {},
      ...options,
      rtcConfig,
      state,
    });
    this.needsPolyfill = !options?.RTCPeerConnection;
  }

  async start() {
    if (this.needsPolyfill) this.RTCPeerConnection = await defaultRTCPeerConnection();
    return super.start();
  }
}
