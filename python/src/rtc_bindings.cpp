#include "rtc_bindings.hpp"

#include <pybind11/stl.h>

#include <limits>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "dict_options.hpp"
#include "ifmesh/error.hpp"
#include "native_peer_connection.hpp"

namespace py = pybind11;

namespace ifmesh::python {

namespace {

template <typename T>
void takeBounded(const py::dict& d, const char* key, T& out, long long low, long long high) {
  long long value = 0;
  if (!take(d, key, value)) return;
  if (value < low || value > high)
    throw Error(Errc::InvalidArgument, std::string("option '") + key + "' is out of range (" +
                                           std::to_string(low) + ".." + std::to_string(high) + ")");
  out = static_cast<T>(value);
}

RtcConfiguration rtcConfigFrom(const py::dict& d) {
  RtcConfiguration c;
  take(d, "local_addresses", c.localAddresses);
  std::vector<std::tuple<std::string, std::string, std::string>> servers;
  if (take(d, "ice_servers", servers))
    for (auto& [url, username, credential] : servers)
      c.iceServers.push_back({std::move(url), std::move(username), std::move(credential)});
  take(d, "force_relay", c.forceRelay);
  take(d, "aggressive_nomination", c.aggressiveNomination);
  constexpr long long kUint32Max = std::numeric_limits<std::uint32_t>::max();
  takeBounded(d, "max_message_size", c.maxMessageSize, 1, kUint32Max);
  takeBounded(d, "max_channels", c.maxChannels, 2, 65535);
  takeBounded(d, "ice_check_pacing_ms", c.iceCheckPacingMs, 1, 10000);
  takeBounded(d, "connect_timeout_ms", c.connectTimeoutMs, 1, kUint32Max);
  takeBounded(d, "consent_timeout_ms", c.consentTimeoutMs, 0, kUint32Max);
  takeBounded(d, "udp_receive_buffer_bytes", c.udpReceiveBufferBytes, 0,
              std::numeric_limits<int>::max());
  takeBounded(d, "port_range_begin", c.portRangeBegin, 0, 65535);
  takeBounded(d, "port_range_end", c.portRangeEnd, 0, 65535);
  if (c.portRangeBegin > c.portRangeEnd)
    throw Error(Errc::InvalidArgument, "port_range: the first port is above the last");
  return c;
}

Description::Type descriptionType(const std::string& type) {
  if (type == "offer") return Description::Type::Offer;
  if (type == "answer") return Description::Type::Answer;
  throw Error(Errc::InvalidArgument, "description type '" + type + "': expected offer or answer");
}

py::tuple descriptionTuple(const Description& d) {
  return py::make_tuple(d.type == Description::Type::Offer ? "offer" : "answer", d.sdp);
}

std::optional<std::uint16_t> optionalU16(const py::object& value, const char* name) {
  if (value.is_none()) return std::nullopt;
  long long v = 0;
  try {
    v = value.cast<long long>();
  } catch (const py::cast_error&) {
    throw Error(Errc::InvalidArgument, std::string(name) + " must be an int or None");
  }
  if (v < 0 || v > 65535)
    throw Error(Errc::InvalidArgument, std::string(name) + " must be in 0..65535");
  return static_cast<std::uint16_t>(v);
}

// A text message from the peer: its bytes are hostile, so bad UTF-8 becomes U+FFFD (as a
// browser's DataChannel decodes it) rather than an exception in the event loop.
py::object messageObject(Message& m) {
  if (auto* text = std::get_if<std::string>(&m)) {
    PyObject* s =
        PyUnicode_DecodeUTF8(text->data(), static_cast<Py_ssize_t>(text->size()), "replace");
    if (!s) throw py::error_already_set();
    return py::reinterpret_steal<py::object>(s);
  }
  auto& binary = std::get<Binary>(m);
  return py::bytes(reinterpret_cast<const char*>(binary.data()), binary.size());
}

py::tuple eventTuple(RtcEvent& e) {
  using Kind = RtcEvent::Kind;
  switch (e.kind) {
    case Kind::Candidate:
      return py::make_tuple("candidate", e.text, e.mid);
    case Kind::State:
      return py::make_tuple("connectionstate", e.text);
    case Kind::IceState:
      return py::make_tuple("iceconnectionstate", e.text);
    case Kind::GatheringState:
      return py::make_tuple("icegatheringstate", e.text);
    case Kind::DataChannel:
      return py::make_tuple(
          "datachannel", e.channel,
          py::cast(std::make_unique<NativeDataChannel>(std::move(e.dataChannel), e.channel)));
    case Kind::ChannelOpen:
      return py::make_tuple("open", e.channel);
    case Kind::ChannelClose:
      return py::make_tuple("close", e.channel);
    case Kind::ChannelError:
      return py::make_tuple("error", e.channel, e.text);
    case Kind::ChannelMessage:
      return py::make_tuple("message", e.channel, messageObject(e.message));
    case Kind::BufferedAmountLow:
      return py::make_tuple("bufferedamountlow", e.channel);
  }
  return py::make_tuple("unknown");
}

py::dict statsDict(const PeerConnectionStats& s) {
  py::dict d;
  d["state"] = toString(s.state);
  if (s.selectedPair) {
    py::dict pair;
    pair["local_candidate"] = s.selectedPair->localCandidate;
    pair["remote_candidate"] = s.selectedPair->remoteCandidate;
    pair["local_type"] = s.selectedPair->localType;
    pair["remote_type"] = s.selectedPair->remoteType;
    d["selected_pair"] = pair;
  } else {
    d["selected_pair"] = py::none();
  }
  d["rtt_ms"] = s.rttMs ? py::cast(*s.rttMs) : py::none();
  if (s.sctp) {
    py::dict sctp;
    sctp["state"] = s.sctp->state;
    sctp["path_reachable"] = s.sctp->pathReachable;
    sctp["peer_window_bytes"] = s.sctp->peerWindowBytes;
    sctp["congestion_window_bytes"] = s.sctp->congestionWindowBytes;
    sctp["rto_ms"] = s.sctp->rtoMs;
    sctp["smoothed_rtt_ms"] = s.sctp->smoothedRttMs;
    sctp["unacked_chunks"] = s.sctp->unackedChunks;
    sctp["pending_chunks"] = s.sctp->pendingChunks;
    sctp["queued_messages"] = s.sctp->queuedMessages;
    d["sctp"] = sctp;
  } else {
    d["sctp"] = py::none();
  }
  d["bytes_sent"] = s.bytesSent;
  d["bytes_received"] = s.bytesReceived;
  d["data_channels"] = s.dataChannels;
  d["failure_reason"] = s.failureReason;
  d["disconnect_reason"] = s.disconnectReason;
  return d;
}

// A contiguous read-only view of a bytes-like object, released on every path.
class BufferView {
 public:
  explicit BufferView(py::handle object) {
    if (PyObject_GetBuffer(object.ptr(), &view_, PyBUF_SIMPLE) != 0) {
      PyErr_Clear();
      throw py::type_error("send takes str (a text message) or a bytes-like object (binary)");
    }
  }
  ~BufferView() { PyBuffer_Release(&view_); }
  BufferView(const BufferView&) = delete;
  BufferView& operator=(const BufferView&) = delete;
  std::span<const std::byte> bytes() const {
    return {static_cast<const std::byte*>(view_.buf), static_cast<std::size_t>(view_.len)};
  }

 private:
  Py_buffer view_{};
};

void send(NativeDataChannel& self, py::handle data) {
  auto channel = self.channel();
  if (PyUnicode_Check(data.ptr())) {
    Py_ssize_t size = 0;
    // Points into the str object, which the caller keeps alive for the call.
    const char* utf8 = PyUnicode_AsUTF8AndSize(data.ptr(), &size);
    if (!utf8) throw py::error_already_set();
    py::gil_scoped_release release;
    channel->send(std::string_view(utf8, static_cast<std::size_t>(size)));
    return;
  }
  BufferView view(data);
  py::gil_scoped_release release;
  channel->send(view.bytes());
}

}  // namespace

void bindRtc(py::module_& m) {
  py::class_<NativeDataChannel>(m, "NativeDataChannel")
      .def_property_readonly("key", &NativeDataChannel::key)
      .def_property_readonly("label",
                             [](const NativeDataChannel& c) { return c.channel()->label(); })
      .def_property_readonly("protocol",
                             [](const NativeDataChannel& c) { return c.channel()->protocol(); })
      .def_property_readonly("id",
                             [](const NativeDataChannel& c) -> std::optional<std::uint16_t> {
                               return c.channel()->id();
                             })
      .def_property_readonly("is_open",
                             [](const NativeDataChannel& c) { return c.channel()->isOpen(); })
      .def_property_readonly(
          "buffered_amount",
          [](const NativeDataChannel& c) { return c.channel()->bufferedAmount(); })
      .def_property_readonly(
          "max_message_size",
          [](const NativeDataChannel& c) { return c.channel()->maxMessageSize(); })
      .def_property_readonly("bytes_sent",
                             [](const NativeDataChannel& c) { return c.channel()->bytesSent(); })
      .def(
          "set_buffered_amount_low_threshold",
          [](NativeDataChannel& c, std::size_t bytes) {
            c.channel()->setBufferedAmountLowThreshold(bytes);
          },
          py::arg("bytes"))
      .def("send", &send, py::arg("data"))
      .def("close",
           [](NativeDataChannel& c) {
             auto channel = c.channel();
             py::gil_scoped_release release;
             channel->close();
           })
      .def("release", &NativeDataChannel::release, py::call_guard<py::gil_scoped_release>());

  py::class_<NativePeerConnection>(m, "NativePeerConnection")
      .def(py::init([](const py::dict& options) {
             RtcConfiguration config = rtcConfigFrom(options);
             py::gil_scoped_release release;
             return std::make_unique<NativePeerConnection>(std::move(config));
           }),
           py::arg("options"))
      .def("fileno", &NativePeerConnection::fileno)
      .def("take_events",
           [](NativePeerConnection& pc) {
             std::vector<RtcEvent> events;
             {
               py::gil_scoped_release release;
               events = pc.takeEvents();
             }
             py::list out(events.size());
             for (std::size_t i = 0; i < events.size(); ++i) out[i] = eventTuple(events[i]);
             return out;
           })
      .def("create_offer",
           [](NativePeerConnection& pc) {
             Description d;
             {
               auto c = pc.connection();
               py::gil_scoped_release release;
               d = c->createOffer();
             }
             return descriptionTuple(d);
           })
      .def("create_answer",
           [](NativePeerConnection& pc) {
             Description d;
             {
               auto c = pc.connection();
               py::gil_scoped_release release;
               d = c->createAnswer();
             }
             return descriptionTuple(d);
           })
      .def(
          "set_remote_description",
          [](NativePeerConnection& pc, const std::string& type, std::string sdp) {
            Description d{descriptionType(type), std::move(sdp)};
            auto c = pc.connection();
            py::gil_scoped_release release;
            c->setRemoteDescription(d);
          },
          py::arg("type"), py::arg("sdp"))
      .def(
          "add_remote_candidate",
          [](NativePeerConnection& pc, std::string candidate, std::string mid) {
            Candidate cand{std::move(candidate), std::move(mid)};
            auto c = pc.connection();
            py::gil_scoped_release release;
            c->addRemoteCandidate(cand);
          },
          py::arg("candidate"), py::arg("mid"))
      .def(
          "create_data_channel",
          [](NativePeerConnection& pc, const std::string& label, bool ordered,
             const py::object& maxRetransmits, const py::object& maxPacketLifeTime,
             const std::string& protocol, const py::object& negotiatedId) {
            DataChannelInit init;
            init.ordered = ordered;
            init.maxRetransmits = optionalU16(maxRetransmits, "max_retransmits");
            init.maxPacketLifeTime = optionalU16(maxPacketLifeTime, "max_packet_life_time");
            init.protocol = protocol;
            init.negotiatedId = optionalU16(negotiatedId, "id");
            py::gil_scoped_release release;
            return pc.createDataChannel(label, init);
          },
          py::arg("label"), py::arg("ordered"), py::arg("max_retransmits"),
          py::arg("max_packet_life_time"), py::arg("protocol"), py::arg("negotiated_id"))
      .def("connection_state",
           [](NativePeerConnection& pc) { return std::string(toString(pc.connection()->state())); })
      .def("ice_connection_state",
           [](NativePeerConnection& pc) {
             return std::string(toString(pc.connection()->iceState()));
           })
      .def("ice_gathering_state",
           [](NativePeerConnection& pc) {
             return std::string(toString(pc.connection()->gatheringState()));
           })
      .def("local_description",
           [](NativePeerConnection& pc) -> py::object {
             std::optional<Description> d;
             {
               auto c = pc.connection();
               py::gil_scoped_release release;
               d = c->localDescription();
             }
             if (!d) return py::none();
             return descriptionTuple(*d);
           })
      .def("local_fingerprint",
           [](NativePeerConnection& pc) { return pc.connection()->localFingerprint(); })
      .def("stats",
           [](NativePeerConnection& pc) {
             PeerConnectionStats s;
             {
               auto c = pc.connection();
               py::gil_scoped_release release;
               s = c->stats();
             }
             return statsDict(s);
           })
      .def("close_connection", &NativePeerConnection::closeConnection,
           py::call_guard<py::gil_scoped_release>())
      .def("close", &NativePeerConnection::close, py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("closed", &NativePeerConnection::closed);
}

}  // namespace ifmesh::python
