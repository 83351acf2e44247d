// The witness log's signatures: what they sign, and an agent identity as the signer.
#include "ifmesh/identity.hpp"
#include "ifmesh/witness.hpp"

namespace ifmesh {

std::string witnessSignedBytes(std::string_view recordHash) {
  // A JSON array led by its own tag, like the message and hello signing inputs, so that no
  // signature of the agent's key can be taken for another kind.
  return nlohmann::json::array({"ifmesh-witness-v1", std::string(recordHash)}).dump();
}

WitnessSigner witnessSigner(const AgentIdentity& identity, std::string agentId) {
  return {identity.publicKey(), [identity](std::string_view data) { return identity.sign(data); },
          std::move(agentId)};
}

}  // namespace ifmesh
