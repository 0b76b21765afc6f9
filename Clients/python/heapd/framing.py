"""Message framing: newline-delimited JSON and the LSP base protocol.

heapd picks a connection's framing from the first byte it receives (``C``/``c``: LSP, anything
else: NDJSON) and answers in the same framing. A framing here is a pair of pure functions:
:meth:`Framing.encode` turns one JSON text (bytes) into what goes on the wire, and
:meth:`Framing.decode` takes one complete message off the front of a receive buffer.
"""

from typing import Optional

__all__ = ["Framing", "NDJSONFraming", "LSPFraming", "FramingError", "get_framing", "FRAMINGS"]


class FramingError(Exception):
    """The peer sent bytes that cannot be framed (e.g. an LSP header without Content-Length)."""


class Framing:
    """Base class: ``name``, :meth:`encode` and :meth:`decode`."""

    #: ``"ndjson"`` or ``"lsp"``.
    name = ""

    def encode(self, body: bytes) -> bytes:
        """Frame one JSON text (compact, UTF-8) for sending."""
        raise NotImplementedError

    def decode(self, buffer: bytearray) -> Optional[bytes]:
        """Remove and return the first complete message body from ``buffer``, or return
        ``None`` (leaving ``buffer`` untouched) if it does not hold one yet."""
        raise NotImplementedError

    def may_complete(self, chunk: bytes) -> bool:
        """Whether appending ``chunk`` to a buffer that held no complete message can have
        completed one (lets a reader skip decoding)."""
        return True


class NDJSONFraming(Framing):
    """One JSON text per line (``\\n``; a ``\\r`` before it and blank lines are ignored)."""

    name = "ndjson"

    def encode(self, body: bytes) -> bytes:
        """Append the newline. ``body`` must not contain one (compact JSON never does)."""
        if b"\n" in body:
            raise ValueError("an NDJSON message cannot contain a newline")
        return body + b"\n"

    def decode(self, buffer: bytearray) -> Optional[bytes]:
        """Return the next non-blank line (without its line ending), or ``None``."""
        while True:
            end = buffer.find(b"\n")
            if end < 0:
                return None
            line = bytes(buffer[:end])
            del buffer[:end + 1]
            if line.strip(b" \t\r"):
                return line.rstrip(b"\r")

    def may_complete(self, chunk: bytes) -> bool:
        """Only a newline ends a message."""
        return b"\n" in chunk


class LSPFraming(Framing):
    """``Content-Length: N\\r\\n\\r\\n`` followed by N bytes of JSON (other headers ignored,
    header names case-insensitive), as in the Language Server Protocol."""

    name = "lsp"

    #: Header blocks longer than this are refused, as the daemon does.
    MAX_HEADER = 8192

    def encode(self, body: bytes) -> bytes:
        """Prefix the Content-Length header."""
        return b"Content-Length: %d\r\n\r\n" % len(body) + body

    def decode(self, buffer: bytearray) -> Optional[bytes]:
        """Return the next complete body, or ``None``; raise :class:`FramingError` on a broken
        header block."""
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(buffer) > self.MAX_HEADER:
                raise FramingError("LSP header block longer than %d bytes" % self.MAX_HEADER)
            return None
        length = None
        for line in bytes(buffer[:end]).split(b"\r\n"):
            name, sep, value = line.partition(b":")
            if not sep:
                raise FramingError("LSP header line without ':': %r" % line)
            if name.strip().lower() == b"content-length":
                try:
                    n = int(value.strip())
                except ValueError:
                    raise FramingError("non-numeric Content-Length: %r" % value) from None
                if n < 0 or (length is not None and length != n):
                    raise FramingError("bad Content-Length: %r" % value)
                length = n
        if length is None:
            raise FramingError("LSP header block without Content-Length")
        start = end + 4
        if len(buffer) < start + length:
            return None
        body = bytes(buffer[start:start + length])
        del buffer[:start + length]
        return body


#: name → framing instance.
FRAMINGS = {"ndjson": NDJSONFraming(), "lsp": LSPFraming()}


def get_framing(framing) -> Framing:
    """Accept ``"ndjson"``, ``"lsp"`` (case-insensitive) or a :class:`Framing` instance."""
    if isinstance(framing, Framing):
        return framing
    if isinstance(framing, str) and framing.lower() in FRAMINGS:
        return FRAMINGS[framing.lower()]
    raise ValueError("framing must be 'ndjson' or 'lsp', not %r" % (framing,))
