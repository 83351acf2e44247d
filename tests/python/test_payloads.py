"""Payload encoding and error mapping, without a network."""

from __future__ import annotations

import enum
import json

import pytest

import ifmesh
from ifmesh import errors
from ifmesh._message import decode_payload, encode_payload, priority_value


def test_bytes_round_trip_and_plain_json():
    text = encode_payload(b"\x00\x01\xfe")
    assert json.loads(text) == {"$bytes": "AAH+"}
    assert decode_payload(text) == b"\x00\x01\xfe"
    assert decode_payload(encode_payload({"a": [1, None, "é"]})) == {"a": [1, None, "é"]}
    # Only the exact one-key form with valid base64 is bytes; anything else stays JSON.
    assert decode_payload('{"$bytes": "not base64!"}') == {"$bytes": "not base64!"}
    assert decode_payload('{"$bytes": "AA==", "x": 1}') == {"$bytes": "AA==", "x": 1}
    for bad in ('{"a": 1} x', '{"a": 1}{"b": 2}', ""):
        with pytest.raises(ValueError):
            decode_payload(bad)
    with pytest.raises(ValueError):
        encode_payload({"nan": float("nan")})


def test_native_encoding_writes_what_json_dumps_writes():
    from ifmesh import _ifmesh

    class Colour(enum.IntEnum):
        RED = 3

    class Name(str, enum.Enum):
        ADA = "ada"

    values = [None, True, False, 0, -5, 2**63, -(2**64), 10**40, 2.5, -0.0, 1234.567, 0.1,
              1e-07, 3e20, "", "plain", 'quote " backslash \\ slash /', "\x00\x1f\x7f\n\t",
              "é 中 😀", [], {}, [1, [2, [3]]], (1, "two"), {"b": 1, "a": [True, None]},
              {1: "int key", None: "none", False: "bool", 2.5: "float"}, Colour.RED, Name.ADA,
              {"nested": {"deeper": [{"k": "v"}]}}]
    for v in values:
        ours = _ifmesh.encode_json(v)
        assert ours == json.dumps(v, separators=(",", ":"), ensure_ascii=False), v
        assert json.loads(ours) == json.loads(json.dumps(v))
    # Floats: the shortest text that reads back as the same float, and a float stays a float.
    for f in (2.0, 1e16, 1e22, 5e-324, 1.7976931348623157e308, 0.30000000000000004):
        text = _ifmesh.encode_json(f)
        assert json.loads(text) == f and isinstance(json.loads(text), float), text
    for bad in (float("nan"), float("inf"), "\ud800", {"k": "\udfff"}):
        with pytest.raises(ValueError):
            _ifmesh.encode_json(bad)
    for bad in ({"s": {1, 2}}, {(1, 2): 3}, object(), b"raw bytes"):
        with pytest.raises(TypeError):
            _ifmesh.encode_json(bad)
    deep = 1
    for _ in range(99):
        deep = [deep]
    assert _ifmesh.encode_json(deep) == "[" * 99 + "1" + "]" * 99
    with pytest.raises(ValueError):
        _ifmesh.encode_json([deep])
    cycle: list = []
    cycle.append(cycle)
    with pytest.raises(ValueError):
        _ifmesh.encode_json(cycle)


def test_native_decoding_reads_what_json_loads_reads():
    from ifmesh import _ifmesh

    texts = ['null', 'true', 'false', '0', '-0', '-5', '9223372036854775807',
             '9223372036854775808', '-99999999999999999999999', '2.5', '-0.0', '1e5', '1E-7',
             '1e-400', '0.30000000000000004', '""', '"plain"', r'"q\"b\\s\/n\n\t\b\f\r"',
             r'"\u0041\u00e9\ud83d\ude00"', '"é 中 😀"', '[]', '{}', ' [1, [2, [3]]] ',
             '{"b": 1, "a": [true, null]}', '{"a": 1, "a": 2}',
             '{"records":[{"id":"x","v":{"amount":1.5}},{"id":"y","v":{"amount":-2}}]}']
    for text in texts:
        ours = _ifmesh.decode_json(text)
        theirs = json.loads(text)
        assert ours == theirs and type(ours) is type(theirs), text
        assert json.dumps(ours) == json.dumps(theirs), text
    for bad in ('', ' ', '{', '[1,]', '{"a"}', '{"a":1,}', '01', '1.', '.5', '+1', '-',
                'NaN', 'Infinity', 'tru', '"open', r'"\x"', r'"\ud800"', r'"\udc00"',
                '"tab\tin"', '[1 2]', '{} {}', '1 x'):
        with pytest.raises(ValueError):
            _ifmesh.decode_json(bad)
    assert _ifmesh.decode_json("[" * 99 + "]" * 99) == json.loads("[" * 99 + "]" * 99)
    with pytest.raises(ValueError):
        _ifmesh.decode_json("[" * 100 + "]" * 100)


def test_priorities():
    assert priority_value("HIGH") == 1 == priority_value(ifmesh.Priority.HIGH)
    assert priority_value("low") == 3
    for bad in ("urgent", 7, -1):
        with pytest.raises(ValueError):
            priority_value(bad)


def test_errc_names_map_to_classes():
    assert isinstance(errors.from_code("QueueFull", "x"), ifmesh.QueueFull)
    assert isinstance(errors.from_code("MessageTooLarge", "x"), ifmesh.MessageTooLarge)
    assert isinstance(errors.from_code("Undeliverable", "x"), ifmesh.Undeliverable)
    assert isinstance(errors.from_code("no such code", "x"), errors.Internal)
    refused = errors.registration_error("unauthorized", "bad token")
    assert isinstance(refused, ifmesh.Unauthorized) and refused.code == "unauthorized"
    other = errors.registration_error("server_full", "")
    assert type(other) is ifmesh.RegistrationError and other.code == "server_full"
    assert issubclass(ifmesh.InvalidArgument, ValueError)


def test_bad_native_options_raise_invalid_argument():
    from ifmesh import _ifmesh

    with pytest.raises(_ifmesh.NativeError) as e:
        _ifmesh.NativeAgent({"id": "a"})
    assert isinstance(errors.from_native(e.value), ifmesh.InvalidArgument)
    with pytest.raises(_ifmesh.NativeError):
        _ifmesh.NativeAgent({"id": "a", "signaling_url": "ws://127.0.0.1:9",
                             "bandwidth": {"queue_max_messages": "many"}})
