#pragma once
// The link's proof of identity, carried by every hello: "fp" is the sender's DTLS certificate
// fingerprint ("AB:CD:..."), "sig" its Ed25519 signature over
//   ["ifmesh-hello-v1", sender id, sender incarnation ("inc"), fp, receiver id]
// (compact JSON). The receiver checks fp against the fingerprint the DTLS handshake of this very
// connection verified, and the signature against the key the directory announced for the peer:
// a relayed or replayed hello from another connection, or another agent's key, does not verify.
#include <cstdint>
#include <string>

#include "ifmesh/identity.hpp"
#include "mesh/link_codec.hpp"

namespace ifmesh::detail {

std::string helloSigningInput(const std::string& senderId, std::uint64_t incarnation,
                              const std::string& fingerprint, const std::string& receiverId);

// nullptr when the hello proves that peerId, holding `key`, owns the DTLS certificate with
// remoteFingerprint; else "unknown_peer_key", "missing_signature", "fingerprint_mismatch" or
// "bad_signature".
const char* verifyHello(const link::Hello& hello, const PublicKey* key, const std::string& peerId,
                        const std::string& ownId, const std::string& remoteFingerprint);

}  // namespace ifmesh::detail
