#!/usr/bin/env python3
"""Sums a perf profile by ifmesh layer.

Usage: perf report -i perf.data --stdio --no-children --sort dso,sym -g none \
           | python3 scripts/perf-layers.py

Each sample's own cost (no children) goes to the first layer whose rule matches its shared object
and symbol; the rules follow the stack from the wire up: kernel, ICE (libnice and GLib, or
ifmesh::ice and the shared socket), DTLS (OpenSSL), SCTP (usrsctp), the DataChannel layer
(ifmesh::rtc), the agent's link protocol and routing (ifmesh::detail, ifmesh::link), JSON,
Ed25519/SHA (libcrypto outside DTLS cannot be told apart and counts as DTLS), the allocator, the
benchmark driver, and the rest.
"""
import re
import sys

RULES = [
    ("kernel", lambda dso, sym: dso.startswith("[kernel") or sym.startswith("[k]")),
    # GLib's socket calls that ifmesh hooks (libnice_hooks) live in the ifmesh binary.
    # ICE: libnice and GLib, or our own agent (ifmesh::ice) and the shared socket it runs on.
    ("ICE (libnice and GLib, or ifmesh::ice)", lambda dso, sym: dso.startswith((
        "libnice", "libglib", "libgio", "libgobject"))
     or re.match(r"(g_|nice_)", sym) is not None
     or re.search(r"ifmesh::(ice::|rtc::(UdpMux|MuxIceTransport))", sym) is not None),
    # DTLS: OpenSSL's handshake and crypto, and ifmesh's record layer after the handshake.
    ("DTLS, crypto (OpenSSL)", lambda dso, sym: dso.startswith(("libssl", "libcrypto"))
     or re.search(r"ifmesh::rtc::(Dtls|forEachDtlsRecord|exportDtlsKeys)", sym) is not None),
    ("SCTP (usrsctp)", lambda dso, sym: re.search(r"\b(sctp|usrsctp|m_|sbappend|soreceive|"
                                                  r"sosend|sctp6?_|calculate_crc32c)", sym)
     is not None and "ifmesh" not in sym),
    ("JSON", lambda dso, sym: "nlohmann" in sym or "::json::" in sym
     or "jsonNestingDepth" in sym),
    ("DataChannel layer (ifmesh::rtc)", lambda dso, sym: re.search(
        r"ifmesh::(rtc::|PeerConnection|DataChannel|detail::(PeerCore|ChannelCore))", sym)
     is not None),
    ("agent: link protocol, routing, witness", lambda dso, sym: "ifmesh::" in sym),
    ("allocator", lambda dso, sym: dso.startswith(("libjemalloc",))
     or re.search(r"\b(je_|malloc|free|_int_free|_int_malloc|operator new|operator delete|"
                  r"cfree|realloc|calloc)\b", sym) is not None),
    ("libc, libstdc++, clock (vDSO)", lambda dso, sym: dso.startswith(
        ("libc.so", "libc-", "libstdc++", "libm.so", "ld-linux", "[vdso]"))),
]
OTHER = "other"

LINE = re.compile(r"^\s*([0-9.]+)%\s+(\S+)\s+\[([.k])\]\s+(.*)$")


def main() -> None:
    totals: dict[str, float] = {}
    top: dict[str, list[tuple[float, str]]] = {}
    for line in sys.stdin:
        m = LINE.match(line)
        if not m:
            continue
        share, dso, kind, sym = float(m.group(1)), m.group(2), m.group(3), m.group(4).strip()
        if kind == "k":
            dso = "[kernel.kallsyms]"
        layer = next((name for name, rule in RULES if rule(dso, sym)), OTHER)
        totals[layer] = totals.get(layer, 0.0) + share
        top.setdefault(layer, []).append((share, sym[:90]))
    order = [name for name, _ in RULES] + [OTHER]
    total = sum(totals.values()) or 1.0
    for name in order:
        if name not in totals:
            continue
        print(f"{totals[name]:6.1f} %  {name}")
        for share, sym in sorted(top[name], reverse=True)[:4]:
            print(f"           {share:5.1f} %  {sym}")
    print(f"{total:6.1f} %  total")


if __name__ == "__main__":
    main()
