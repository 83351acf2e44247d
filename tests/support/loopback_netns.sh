# Sourced by the test scripts that run in a network namespace of their own with only `lo` up, so
# that no packet leaves loopback (needs root).
#   loopback_netns_up NAME    creates it, with lo up
#   loopback_netns_down NAME  kills every process still inside (all started by this run: the
#                             namespace is private to it) and deletes it; nothing when absent

loopback_netns_up() {
  ip netns add "$1"
  ip netns exec "$1" ip link set lo up
}

loopback_netns_down() {
  ip netns list | grep -qw "$1" || return 0
  local pid
  for pid in $(ip netns pids "$1" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
  ip netns delete "$1" || true
}
