#include "mesh/link_auth.hpp"

#include <nlohmann/json.hpp>

namespace ifmesh::detail {

std::string helloSigningInput(const std::string& senderId, std::uint64_t incarnation,
                              const std::string& fingerprint, const std::string& receiverId) {
  return nlohmann::json::array({"ifmesh-hello-v1", senderId, incarnation, fingerprint, receiverId})
      .dump();
}

const char* verifyHello(const link::Hello& hello, const PublicKey* key, const std::string& peerId,
                        const std::string& ownId, const std::string& remoteFingerprint) {
  if (!key) return "unknown_peer_key";
  if (hello.fingerprint.empty() || hello.signature.empty()) return "missing_signature";
  if (remoteFingerprint.empty() || hello.fingerprint != remoteFingerprint)
    return "fingerprint_mismatch";
  if (!key->verify(helloSigningInput(peerId, hello.incarnation, remoteFingerprint, ownId),
                   hello.signature))
    return "bad_signature";
  return nullptr;
}

}  // namespace ifmesh::detail
