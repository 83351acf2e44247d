// Signaling client (docs/signaling-protocol.md): registers the agent with its public key, keeps
// the directory of agents and their keys, and relays offers, answers, candidates,
// connect-requests and byes. WebSocket is the browser's, or any class with its API (`ws` in
// Node.js). Every message from the server is hostile until checked.
import { isValidAgentId, jsonDepth } from './codec.js';
import { Emitter } from './emitter.js';

const SERVER_TYPES = new Set(['registered', 'agent-joined', 'agent-left', 'error']);
const REFUSALS = new Set([
  'bad_agent_id',
  'unauthorized',
  'bad_public_key',
  'duplicate_id',
  'server_full',
]);
const MAX_DEPTH = 104;

export class SignalingError extends Error {
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

// Events: 'registered' (agents: Map id -> key|undefined), 'joined' (id, key), 'left' (id),
// 'relay' (from, type, msg), 'error' (code, message), 'close'.
export class SignalingClient extends Emitter {
  constructor({ url, agentId, token, publicKey, WebSocket: WS }) {
    super();
    this.url = url;
    this.agentId = agentId;
    this.token = token;
    this.publicKey = publicKey;
    this.WS = WS ?? globalThis.WebSocket;
    if (!this.WS) throw new Error('no WebSocket implementation (pass options.WebSocket)');
    this.ws = null;
    this.registered = false;
  }

  // Resolves once registered; rejects with SignalingError on a refusal or a failed connection.
  connect() {
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (err) => {
        if (settled) return;
        settled = true;
        if (err) reject(err);
        else resolve();
      };
      let ws;
      try {
        ws = new this.WS(this.url);
      } catch (e) {
        settle(new SignalingError('unreachable', e.message));
        return;
      }
      this.ws = ws;
      ws.onopen = () => {
        const reg = { type: 'register', agent_id: this.agentId, public_key: this.publicKey };
        if (this.token) reg.token = this.token;
        ws.send(JSON.stringify(reg));
      };
      ws.onerror = (e) => {
        if (!this.registered)
          settle(new SignalingError('unreachable', `${this.url}: ${e?.message ?? 'socket error'}`));
      };
      ws.onclose = () => {
        if (!this.registered) settle(new SignalingError('unreachable', `${this.url} closed`));
        const was = this.registered;
        this.registered = false;
        if (this.ws === ws) this.ws = null;
        if (was) this.emit('close');
      };
      ws.onmessage = (e) => {
        if (typeof e.data !== 'string') return; // the server only sends text
        const msg = this.#parse(e.data);
        if (!msg) return;
        if (msg.type === 'error' && msg.from === undefined) {
          const code = typeof msg.code === 'string' ? msg.code : 'error';
          const text = typeof msg.message === 'string' ? msg.message : '';
          if (!this.registered && REFUSALS.has(code)) {
            settle(new SignalingError(code, text));
            ws.close();
            return;
          }
          this.emit('error', code, text);
          return;
        }
        if (msg.type === 'registered' && msg.from === undefined) {
          if (this.registered) return;
          this.registered = true;
          const agents = new Map();
          const keys =
            msg.public_keys && typeof msg.public_keys === 'object' ? msg.public_keys : {};
          if (Array.isArray(msg.connected_agents)) {
            for (const id of msg.connected_agents) {
              if (!isValidAgentId(id) || id === this.agentId) continue;
              agents.set(id, typeof keys[id] === 'string' ? keys[id] : undefined);
            }
          }
          this.emit('registered', agents);
          settle();
          return;
        }
        if (!this.registered) return;
        if (msg.from === undefined) {
          if (msg.type === 'agent-joined' && isValidAgentId(msg.agent_id))
            this.emit(
              'joined',
              msg.agent_id,
              typeof msg.public_key === 'string' ? msg.public_key : undefined,
            );
          else if (msg.type === 'agent-left' && isValidAgentId(msg.agent_id))
            this.emit('left', msg.agent_id);
          return;
        }
        // A peer's message: a server type arriving with a `from` is ignored.
        if (SERVER_TYPES.has(msg.type) || !isValidAgentId(msg.from)) return;
        this.emit('relay', msg.from, msg.type, msg);
      };
    });
  }

  #parse(text) {
    if (jsonDepth(text, MAX_DEPTH) > MAX_DEPTH) return null;
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return null;
    }
    if (msg === null || typeof msg !== 'object' || typeof msg.type !== 'string') return null;
    return msg;
  }

  send(to, type, body = {}) {
    const ws = this.ws;
    if (!ws || !this.registered || ws.readyState !== 1) return false;
    ws.send(JSON.stringify({ ...body, type, to }));
    return true;
  }

  // Closes the socket. Resolves once the server has closed it too (the closing handshake), so
  // that a new registration under the same id no longer finds the old one, or after timeoutMs.
  close(timeoutMs = 2000) {
    const ws = this.ws;
    this.ws = null;
    this.registered = false;
    if (!ws) return Promise.resolve();
    ws.onmessage = ws.onerror = null;
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      ws.onclose = done;
      if (ws.readyState === 3) return done(); // CLOSED already: no close event is to come
      try {
        ws.close();
      } catch {
        done(); // already closed
      }
    });
  }
}
