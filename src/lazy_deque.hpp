#pragma once
// A double-ended queue that allocates nothing until its first element. libstdc++'s std::deque
// allocates its map and a 512-byte block when it is constructed, and a connection holds a dozen
// queues (per priority lane, early datagrams, pending channel messages, triggered checks) that
// stay empty most of their life: ~7 KiB per PeerConnection of mesh100's heap (heaptrack).
#include <boost/container/deque.hpp>

namespace ifmesh {

template <class T>
using LazyDeque = boost::container::deque<T>;

}  // namespace ifmesh
