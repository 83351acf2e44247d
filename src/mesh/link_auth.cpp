#include "mesh/link_auth.hpp"

namespace ifmesh::detail {

std::string helloSigningInput(const std::string& senderId, std::uint64_t incarnation,
                              const std::string& fingerprint, const std::string& receiverId) {
  return nlohmann::json::array({"ifmesh-hello-v1", senderId, incarnation, fingerprint, receiverId})
      .dump();
}

const char* verifyHello(const nlohmann::json& hello, const PublicKey* key,
                        const std::string& peerId, const std::string& ownId,
                        const std::string& remoteFingerprint) {
  if (!key) return "unknown_peer_key";
  auto fp = hello.find("fp");
  auto sig = hello.find("sig");
  if (fp == hello.end() || sig == hello.end() || !fp->is_string() || !sig->is_string())
    return "missing_signature";
  if (remoteFingerprint.empty() || fp->get_ref<const std::string&>() != remoteFingerprint)
    return "fingerprint_mismatch";
  std::uint64_t incarnation = 0;
  if (auto inc = hello.find("inc"); inc != hello.end() && inc->is_number_unsigned())
    incarnation = inc->get<std::uint64_t>();
  if (!key->verify(helloSigningInput(peerId, incarnation, remoteFingerprint, ownId),
                   sig->get_ref<const std::string&>()))
    return "bad_signature";
  return nullptr;
}

}  // namespace ifmesh::detail
