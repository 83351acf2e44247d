#pragma once
// Words for why an SCTP association was aborted, from the ABORT chunk usrsctp appends to its
// SCTP_COMM_LOST notification. Sans-IO: the chunk's bytes in, text out.
//
// Every usrsctp abort carries a diagnostic cause (Runtime sets sctp_diag_info_code): the code of
// the first cause and its text (for usrsctp's own aborts, the file, line and reason, such as
// "Association error counter exceeded") turn "association lost" into something one can act on.
// The bytes come from the peer: the text is cut short and reduced to printable ASCII.
#include <cstddef>
#include <string>

namespace ifmesh::rtc {

// "" when the bytes hold no ABORT chunk with a cause; otherwise for example
// "cause 13: Association error counter exceeded".
std::string describeSctpAbort(const std::byte* chunk, std::size_t length);

}  // namespace ifmesh::rtc
