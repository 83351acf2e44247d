"""Exceptions raised by ifmesh: one class per C++ ``ifmesh::Errc`` code, plus delivery and
registration failures. Every one is an :class:`ifmesh.Error`."""

from __future__ import annotations


class Error(Exception):
    """Base of every ifmesh exception; ``code`` names the condition."""

    code: str = "Error"

    def __init__(self, message: str = "", code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class InvalidArgument(Error, ValueError):
    code = "InvalidArgument"


class InvalidState(Error):
    code = "InvalidState"


class Closed(InvalidState):
    """The agent or peer connection is closed (or closed while the call waited)."""

    code = "Closed"


class MalformedSdp(Error):
    code = "MalformedSdp"


class MalformedCandidate(Error):
    code = "MalformedCandidate"


class MalformedDcep(Error):
    code = "MalformedDcep"


class MessageTooLarge(Error):
    code = "MessageTooLarge"


class ChannelClosed(Error):
    code = "ChannelClosed"


class TooManyChannels(Error):
    code = "TooManyChannels"


class QueueFull(Error):
    """The destination's send queue is at its bound (``bandwidth['queue_max_messages']`` or
    ``['queue_max_bytes']``) and the queue policy cannot make room."""

    code = "QueueFull"


class MalformedFrame(Error):
    code = "MalformedFrame"


class Io(Error):
    code = "Io"


class Tls(Error):
    code = "Tls"


class Internal(Error):
    code = "Internal"


class Undeliverable(Error):
    """An accepted message will not be delivered (peer unreachable after healing gave up, or
    dropped from a full queue under the drop_oldest policy); the message names the reason."""

    code = "Undeliverable"


class RegistrationError(Error):
    """The signaling server did not register the agent; ``code`` is the server's refusal code
    (docs/signaling-protocol.md) or ``unreachable``, ``tls_error``, ``timeout``."""

    code = "registration_failed"


class Unauthorized(RegistrationError):
    code = "unauthorized"


class DuplicateId(RegistrationError):
    code = "duplicate_id"


class Unreachable(RegistrationError):
    code = "unreachable"


class RegistrationTimeout(RegistrationError):
    code = "timeout"


_BY_ERRC: dict[str, type[Error]] = {
    cls.code: cls
    for cls in (
        InvalidArgument,
        InvalidState,
        MalformedSdp,
        MalformedCandidate,
        MalformedDcep,
        MessageTooLarge,
        ChannelClosed,
        TooManyChannels,
        QueueFull,
        MalformedFrame,
        Io,
        Tls,
        Internal,
        Undeliverable,
    )
}

_BY_REGISTRATION_CODE: dict[str, type[RegistrationError]] = {
    cls.code: cls for cls in (Unauthorized, DuplicateId, Unreachable, RegistrationTimeout)
}


def from_code(code: str, message: str) -> Error:
    """The exception for an Errc name (as the native module reports it)."""
    cls = _BY_ERRC.get(code, Internal)
    return cls(message)


def from_native(exc: BaseException) -> Error:
    """The exception for a ``_ifmesh.NativeError(errc_name, message)``."""
    args = getattr(exc, "args", ())
    if len(args) == 2 and isinstance(args[0], str):
        return from_code(args[0], str(args[1]))
    return Internal(str(exc))


def registration_error(code: str, message: str) -> RegistrationError:
    cls = _BY_REGISTRATION_CODE.get(code, RegistrationError)
    return cls(f"{code}: {message}" if message else code, code)
