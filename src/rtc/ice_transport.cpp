#include "rtc/ice_transport.hpp"

#include "rtc/mux_ice_transport.hpp"
#include "rtc/nice_ice_transport.hpp"

namespace ifmesh::rtc {

std::unique_ptr<IceTransport> makeIceTransport(IoLoop& loop, const RtcConfiguration& config,
                                               bool controlling,
                                               IceTransport::Callbacks callbacks) {
  if (MuxIceTransport::serves(config))
    return std::make_unique<MuxIceTransport>(loop, config, controlling, std::move(callbacks));
  return std::make_unique<NiceIceTransport>(loop, config, controlling, std::move(callbacks));
}

}  // namespace ifmesh::rtc
