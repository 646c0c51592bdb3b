"""Edit an ONNX file's metadata entries in place of rebuilding a model: how a test makes the model of
an older (or a broken) build from the shipped one.

Import as ``from onnx_metadata import ...`` (``tests/`` is on ``sys.path`` through its conftest)."""

from __future__ import annotations


def with_metadata(blob: bytes, key: str, value: str) -> bytes:
    """An ONNX file with one more metadata entry: ModelProto.metadata_props is repeated field 14, and
    protobuf merges a repeated field appended at the end of the message."""

    def field(number: int, payload: bytes) -> bytes:
        assert len(payload) < 128
        return bytes([number << 3 | 2, len(payload)]) + payload

    return blob + field(14, field(1, key.encode()) + field(2, value.encode()))


def without_metadata(blob: bytes, key: str, value: str) -> bytes:
    """The ONNX file with one metadata entry cut out (its exact protobuf bytes), as older models are."""
    entry = with_metadata(b"", key, value)
    assert blob.count(entry) == 1
    return blob.replace(entry, b"")
