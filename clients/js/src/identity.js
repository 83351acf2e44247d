// Ed25519 identity through WebCrypto (crypto.subtle), the same code in Node.js and browsers:
// key generation, import/export (PKCS #8 DER or PEM as the C++ agent stores it, JWK, raw seed),
// and the hello and IFMessage signatures of docs/link-protocol.md.
import {
  base64ToBytes,
  bytesToBase64,
  helloSigningInput,
  messageSigningInput,
  utf8Bytes,
} from './codec.js';

const subtle = globalThis.crypto?.subtle;
const ED25519 = { name: 'Ed25519' };
// PKCS #8 of an Ed25519 key is this prefix followed by the 32-byte seed (RFC 8410).
const PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

function requireSubtle() {
  if (!subtle) throw new Error('WebCrypto (crypto.subtle) is not available');
  return subtle;
}

// How signatures are made and checked: WebCrypto by default. The Node.js entry (node.js) installs
// node_ed25519.js, which uses node:crypto's one-shot functions where they answer soonest: they
// run in the calling thread, where WebCrypto's take a trip through libuv's thread pool (here 42
// against 96 µs to sign and 114 against 163 µs to verify 1 KiB, one at a time). Keys stay
// CryptoKeys either way.
export const webCryptoEd25519 = {
  sign: async (privateKey, bytes) => new Uint8Array(await requireSubtle().sign(ED25519, privateKey, bytes)),
  verify: (publicKey, signature, bytes) => requireSubtle().verify(ED25519, publicKey, signature, bytes),
};
let ed25519 = webCryptoEd25519;

// impl: {sign(privateKey, bytes) -> Uint8Array | Promise, verify(publicKey, signature, bytes) ->
// boolean | Promise}, both given CryptoKeys.
export function setEd25519Implementation(impl) {
  ed25519 = impl;
}

export function pemToDer(pem) {
  const m = /-----BEGIN PRIVATE KEY-----([\s\S]*?)-----END PRIVATE KEY-----/.exec(pem);
  if (!m) throw new Error('not a PEM PRIVATE KEY');
  const b64 = m[1].replace(/\s+/g, '');
  const der = base64ToBytes(b64);
  if (!der) throw new Error('bad base64 in PEM');
  return der;
}

export function derToPem(der) {
  const b64 = bytesToBase64(der);
  const lines = b64.match(/.{1,64}/g).join('\n');
  return `-----BEGIN PRIVATE KEY-----\n${lines}\n-----END PRIVATE KEY-----\n`;
}

export class Identity {
  // Use the static constructors.
  constructor(privateKey, publicKey, publicRaw) {
    this.privateKey = privateKey;
    this.publicKey = publicKey;
    this.publicKeyBytes = publicRaw;
    this.publicKeyBase64 = bytesToBase64(publicRaw);
  }

  static async generate() {
    const s = requireSubtle();
    const pair = await s.generateKey(ED25519, true, ['sign', 'verify']);
    return Identity.#fromPrivate(pair.privateKey, pair.publicKey);
  }

  // PKCS #8 DER bytes, a PEM string, a JWK object, or {seed: Uint8Array(32)}.
  static async import(key) {
    const s = requireSubtle();
    let priv;
    if (typeof key === 'string') {
      priv = await s.importKey('pkcs8', pemToDer(key), ED25519, true, ['sign']);
    } else if (key instanceof Uint8Array || key instanceof ArrayBuffer) {
      priv = await s.importKey('pkcs8', key, ED25519, true, ['sign']);
    } else if (key && key.seed) {
      if (key.seed.length !== 32) throw new Error('an Ed25519 seed is 32 bytes');
      const der = new Uint8Array(48);
      der.set(PKCS8_PREFIX);
      der.set(key.seed, 16);
      priv = await s.importKey('pkcs8', der, ED25519, true, ['sign']);
    } else if (key && key.kty === 'OKP') {
      priv = await s.importKey('jwk', key, ED25519, true, ['sign']);
    } else {
      throw new TypeError('unsupported key form');
    }
    return Identity.#fromPrivate(priv, null);
  }

  static async #fromPrivate(priv, pub) {
    const s = requireSubtle();
    const jwk = await s.exportKey('jwk', priv);
    if (!pub) {
      const { d: _d, key_ops: _o, ...publicJwk } = jwk;
      pub = await s.importKey('jwk', publicJwk, ED25519, true, ['verify']);
    }
    const raw = new Uint8Array(await s.exportKey('raw', pub));
    return new Identity(priv, pub, raw);
  }

  async exportPkcs8() {
    return new Uint8Array(await requireSubtle().exportKey('pkcs8', this.privateKey));
  }
  async exportPem() {
    return derToPem(await this.exportPkcs8());
  }
  async exportJwk() {
    return requireSubtle().exportKey('jwk', this.privateKey);
  }

  async signBytes(bytes) {
    return ed25519.sign(this.privateKey, bytes);
  }

  async signHello(ownId, incarnation, fingerprint, peerId) {
    const input = helloSigningInput(ownId, incarnation, fingerprint, peerId);
    return bytesToBase64(await this.signBytes(utf8Bytes(input)));
  }

  async signMessage(message) {
    return bytesToBase64(await this.signBytes(utf8Bytes(messageSigningInput(message))));
  }
}

// Public keys of other agents, imported once per base64 text.
export class KeyDirectory {
  #keys = new Map(); // id -> {base64, key: Promise<CryptoKey|null>}

  // Learns `id`'s key (base64 of 32 bytes); no string forgets it. False for a string that is
  // not such a key, which leaves what was known (as the C++ KeyDirectory::learn).
  set(id, base64) {
    if (typeof base64 !== 'string') {
      this.#keys.delete(id);
      return true;
    }
    const cur = this.#keys.get(id);
    if (cur && cur.base64 === base64) return true;
    const raw = base64ToBytes(base64, 32);
    if (!raw) return false;
    const key = requireSubtle()
      .importKey('raw', raw, ED25519, false, ['verify'])
      .catch(() => null);
    this.#keys.set(id, { base64, key });
    return true;
  }
  delete(id) {
    this.#keys.delete(id);
  }
  has(id) {
    return this.#keys.has(id);
  }
  base64(id) {
    return this.#keys.get(id)?.base64;
  }
  async key(id) {
    const e = this.#keys.get(id);
    return e ? e.key : null;
  }
}

export async function verifyBytes(publicKey, signatureBase64, bytes) {
  const sig = base64ToBytes(signatureBase64, 64);
  if (!sig || !publicKey) return false;
  try {
    return await ed25519.verify(publicKey, sig, bytes);
  } catch {
    return false;
  }
}

export function verifyMessageSignature(publicKey, message) {
  return verifyBytes(publicKey, message.signature, utf8Bytes(messageSigningInput(message)));
}

// docs/link-protocol.md section 6: null when the first hello proves the peer, else the reason.
export async function verifyHello(hello, peerKey, peerId, ownId, remoteFingerprint) {
  if (!peerKey) return 'unknown_peer_key';
  if (typeof hello.fp !== 'string' || typeof hello.sig !== 'string') return 'missing_signature';
  if (hello.fp !== remoteFingerprint) return 'fingerprint_mismatch';
  const input = helloSigningInput(peerId, hello.inc ?? 0, hello.fp, ownId);
  if (!(await verifyBytes(peerKey, hello.sig, utf8Bytes(input)))) return 'bad_signature';
  return null;
}
