// ifmesh._ifmesh: the native half of the Python package. The Python half (ifmesh/_agent.py)
// gives it the asyncio API; this module only moves data and never blocks with the GIL held.
#include <pybind11/chrono.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "agent_config.hpp"
#include "ifmesh/error.hpp"
#include "ifmesh/identity.hpp"
#include "ifmesh/witness.hpp"
#include "json_decode.hpp"
#include "json_depth.hpp"
#include "json_encode.hpp"
#include "native_agent.hpp"
#include "rtc_bindings.hpp"

namespace py = pybind11;
using namespace ifmesh;
using namespace ifmesh::python;

namespace {

// Errc by the name the Python exception classes carry (ifmesh/errors.py); -1 is a receipt's
// "undeliverable".
const char* errcName(int code) {
  return code == -1 ? "Undeliverable" : codeName(static_cast<Errc>(code));
}

// A payload's text nests one level below its message's, which the agent bounds.
constexpr std::size_t kMaxPayloadDepth = detail::kMaxJsonDepth - 1;

py::tuple eventTuple(Event& e) {
  switch (e.kind) {
    case Event::Kind::Message: {
      const IFMessage& m = *e.message;
      // The payload as Python values, read here from its text (checked by the agent, so this
      // fails only for a bug; then the message is reported, not lost without a word).
      py::object payload;
      try {
        payload = decodeJson(e.text, kMaxPayloadDepth);
      } catch (const py::value_error& error) {
        return py::make_tuple("undecodable", m.source, m.id, error.what());
      }
      return py::make_tuple("message", m.id, m.source, m.destination, m.timestamp, m.sequence,
                            static_cast<int>(m.priority), m.traceId, m.level, std::move(payload),
                            m.incarnation);
    }
    case Event::Kind::Accepted:
      return py::make_tuple("accepted", e.token, e.sequence);
    case Event::Kind::Acknowledged:
      return py::make_tuple("acked", e.token, e.sequence);
    case Event::Kind::Failed:
      return py::make_tuple("failed", e.token, errcName(e.code), e.text);
    case Event::Kind::PeerState:
      return py::make_tuple("peer", e.peer, e.text);
    case Event::Kind::QualityChanged:
      return py::make_tuple("quality", e.text, e.peer);
    case Event::Kind::Witness: {
      const WitnessEvent& w = *e.witness;
      return py::make_tuple("witness", w.event, w.agentId, w.peerId, w.traceId, w.timestamp,
                            w.metadata.dump());
    }
    case Event::Kind::SignalingError:
      return py::make_tuple("signaling_error", e.peer, e.text);
  }
  return py::make_tuple("unknown");
}

py::dict statsDict(const BandwidthStats& s) {
  py::dict d;
  d["mode"] = toString(s.mode);
  d["ms_in_mode"] = py::dict(py::arg("HIGH") = s.msInMode[0], py::arg("MEDIUM") = s.msInMode[1],
                             py::arg("LOW") = s.msInMode[2]);
  d["transitions"] = s.transitions;
  d["max_buffered"] = s.maxBuffered;
  d["avg_buffered"] = s.avgBuffered;
  d["peak_buffered"] = s.peakBuffered;
  d["channel_count"] = s.channelCount;
  d["samples"] = s.samples;
  d["batches_sent"] = s.batchesSent;
  d["messages_batched"] = s.messagesBatched;
  d["compressed_frames"] = s.compressedFrames;
  d["bytes_before_compression"] = s.bytesBeforeCompression;
  d["bytes_after_compression"] = s.bytesAfterCompression;
  d["queued_messages"] = s.queuedMessages;
  d["queued_bytes"] = s.queuedBytes;
  d["peak_queued_messages"] = s.peakQueuedMessages;
  d["dropped_messages"] = s.droppedMessages;
  d["rejected_messages"] = s.rejectedMessages;
  return d;
}

}  // namespace

PYBIND11_MODULE(_ifmesh, m) {
  m.doc() = "Native core of the ifmesh package (use the ifmesh package, not this module).";

  static py::exception<Error> nativeError(m, "NativeError");
  // Raised as NativeError(errc_name, message); ifmesh.errors turns it into its own class.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      py::object args = py::make_tuple(errcName(static_cast<int>(e.code())), e.what());
      PyErr_SetObject(nativeError.ptr(), args.ptr());
    }
  });

  py::class_<NativeAgent>(m, "NativeAgent")
      .def(py::init([](const py::dict& options) {
             AgentConfig config = agentConfigFrom(options);
             std::string journal;
             if (options.contains("journal_file") && !options["journal_file"].is_none())
               journal = options["journal_file"].cast<std::string>();
             py::gil_scoped_release release;
             return std::make_unique<NativeAgent>(std::move(config), journal);
           }),
           py::arg("options"))
      .def_property_readonly("id", &NativeAgent::id)
      .def("fileno", &NativeAgent::fileno)
      .def(
          "start",
          [](NativeAgent& a, double timeoutSeconds) {
            RegistrationResult r;
            {
              py::gil_scoped_release release;
              r = a.start(std::chrono::milliseconds(static_cast<long long>(timeoutSeconds * 1000)));
            }
            return py::make_tuple(r.registered, r.code, r.message);
          },
          py::arg("timeout"))
      .def(
          "send",
          [](NativeAgent& a, std::uint64_t token, std::string to, py::handle payload, int priority,
             std::string traceId, bool droppable, bool waitForAck) {
            if (priority < 0 || priority >= kMessagePriorities)
              throw Error(Errc::InvalidArgument, "priority must be 0 (control) to 3 (low)");
            // Written here, from the objects, on the Python thread (it holds the GIL anyway).
            SendRequest r{token,     std::move(to),      encodeJson(payload, kMaxPayloadDepth),
                          priority,  std::move(traceId), droppable,
                          waitForAck};
            a.send(std::move(r));
          },
          py::arg("token"), py::arg("to"), py::arg("payload"), py::arg("priority"),
          py::arg("trace_id"), py::arg("droppable"), py::arg("wait_for_ack"))
      .def("take_events",
           [](NativeAgent& a) {
             std::vector<Event> events;
             {
               py::gil_scoped_release release;
               events = a.takeEvents();
             }
             py::list out(events.size());
             for (std::size_t i = 0; i < events.size(); ++i) out[i] = eventTuple(events[i]);
             return out;
           })
      .def("set_witness_events", &NativeAgent::setWitnessEvents)
      .def("peers", &NativeAgent::peers, py::call_guard<py::gil_scoped_release>())
      .def(
          "peer_state",
          [](NativeAgent& a, const std::string& peer) -> py::object {
            std::optional<PeerState> s;
            {
              py::gil_scoped_release release;
              s = a.peerState(peer);
            }
            if (!s) return py::none();
            return py::str(toString(*s));
          },
          py::arg("peer"))
      .def("unacknowledged", &NativeAgent::unacknowledged, py::arg("peer"),
           py::call_guard<py::gil_scoped_release>())
      .def(
          "last_sequence",
          [](NativeAgent& a, const std::string& peer, int priority) {
            if (priority < 0 || priority >= kMessagePriorities)
              throw Error(Errc::InvalidArgument, "priority must be 0 (control) to 3 (low)");
            py::gil_scoped_release release;
            return a.lastSequence(peer, priority);
          },
          py::arg("peer"), py::arg("priority"))
      .def("quality_mode",
           [](NativeAgent& a) {
             QualityMode q;
             {
               py::gil_scoped_release release;
               q = a.qualityMode();
             }
             return std::string(toString(q));
           })
      .def("stats",
           [](NativeAgent& a) {
             BandwidthStats s;
             {
               py::gil_scoped_release release;
               s = a.stats();
             }
             return statsDict(s);
           })
      .def("is_registered", &NativeAgent::isRegistered, py::call_guard<py::gil_scoped_release>())
      .def("connect", &NativeAgent::connect, py::call_guard<py::gil_scoped_release>())
      .def("disconnect", &NativeAgent::disconnect, py::call_guard<py::gil_scoped_release>())
      .def("drop_connection", &NativeAgent::dropConnection,
           py::call_guard<py::gil_scoped_release>())
      .def("close", &NativeAgent::close, py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("closed", &NativeAgent::closed);

  m.def(
      "verify_witness_file",
      [](const std::string& path, const std::vector<std::string>& keys) {
        VerifyResult r;
        {
          py::gil_scoped_release release;
          r = verifyWitnessFile(path, {keys});
        }
        py::dict d;
        d["ok"] = r.ok;
        d["records"] = r.records;
        d["head_hash"] = r.headHash;
        d["first_bad_line"] = r.firstBadLine ? py::cast(*r.firstBadLine) : py::none();
        d["reason"] = r.reason;
        d["signatures"] = r.signatures;
        d["signed_records"] = r.signedRecords;
        d["unsigned_tail"] = r.unsignedTail;
        d["keys"] = r.keys;
        d["keys_pinned"] = r.keysPinned;
        return d;
      },
      py::arg("path"), py::arg("keys") = std::vector<std::string>{});
  m.def("new_message_id", &newMessageId);
  m.def(
      "decode_json", [](std::string_view text) { return decodeJson(text, kMaxPayloadDepth); },
      py::arg("text"));
  m.def(
      "encode_json", [](py::handle value) { return py::str(encodeJson(value, kMaxPayloadDepth)); },
      py::arg("value"));

  bindRtc(m);
}
