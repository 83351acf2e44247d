// The C++ link codec (src/mesh/link_codec.hpp) as a filter, for codec_cross.test.mjs, which
// decodes the same channel messages with the JavaScript codec and compares. Each input line is
// `t <hex>` (a text channel message) or `b <hex>` (a binary one); each output line is a JSON
// array with one object per decoded frame, in the shape the JavaScript test normalizes to.
#include <cstddef>
#include <iostream>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ifmesh/ifmessage.hpp"
#include "mesh/link_codec.hpp"

namespace lc = ifmesh::detail::link;
using nlohmann::json;

namespace {

// The JavaScript agent reads compressed channel messages up to maxMessageBytes plus a batch.
constexpr std::size_t kMaxTextBytes = 256 * 1024 + lc::kMaxBatchBytes + 64;

json describe(const lc::Frame& frame) {
  if (const auto* h = std::get_if<lc::Hello>(&frame)) {
    return {{"type", "hello"},
            {"version", h->version},
            {"lanes", h->delivered},
            {"inc", h->incarnation},
            {"peer", h->aboutIncarnation ? json(*h->aboutIncarnation) : json(nullptr)},
            {"readsZstd", h->readsZstd},
            {"fp", h->fingerprint},
            {"sig", h->signature}};
  }
  if (const auto* m = std::get_if<lc::Msg>(&frame)) {
    return {{"type", "msg"},
            {"seq", m->seq},
            {"hops", m->hops},
            {"lane", m->lane},
            {"ack", m->ack},
            {"ackRequested", m->ackRequested},
            {"message", ifmesh::serialize(m->message)}};
  }
  if (const auto* a = std::get_if<lc::Ack>(&frame))
    return {{"type", "ack"}, {"seq", a->seq}, {"lane", a->lane}};
  if (const auto* w = std::get_if<lc::Whead>(&frame))
    return {{"type", "whead"}, {"seq", w->seq}, {"hash", w->hash}, {"sig", w->sig}};
  return {{"type", "malformed"}, {"reason", std::get<lc::Malformed>(frame).reason}};
}

std::string fromHex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

}  // namespace

int main() {
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.size() < 2) continue;
    std::string bytes = fromHex(line.substr(2));
    std::vector<lc::Frame> frames =
        line[0] == 'b'
            ? lc::decodeBinary(std::as_bytes(std::span(bytes.data(), bytes.size())), kMaxTextBytes)
            : lc::decode(bytes);
    json out = json::array();
    for (const auto& f : frames) out.push_back(describe(f));
    std::cout << out.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
  }
  return 0;
}
