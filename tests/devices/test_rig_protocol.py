"""Rig wire protocol: CRC, the byte examples in hardware/PROTOCOL.md, and parser properties."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from devices.rig.protocol import (
    MAX_PAYLOAD,
    BadFrame,
    Cmd,
    Frame,
    FrameParser,
    Msg,
    Status,
    crc16,
    decode_identity,
    decode_status,
    encode_frame,
    encode_identity,
    encode_status,
)

PROTOCOL_MD = Path(__file__).resolve().parents[2] / "hardware" / "PROTOCOL.md"

frames = st.builds(
    Frame,
    seq=st.integers(0, 255),
    msg_id=st.integers(0, 255),
    payload=st.binary(max_size=MAX_PAYLOAD),
)


def test_crc_is_ccitt_false() -> None:
    """The CRC is CRC-16/CCITT-FALSE, as the spec and the firmware's _crc_xmodem_update(0xFFFF) say."""
    assert crc16(b"123456789") == 0x29B1


def _doc_examples() -> list[bytes]:
    text = PROTOCOL_MD.read_text()
    section = text.split("## Byte-level examples", 1)[1]
    return [bytes.fromhex(m) for m in re.findall(r"`(A5(?: [0-9A-F]{2})+)`", section)]


def test_protocol_md_examples_are_valid_frames() -> None:
    """Every byte example printed in PROTOCOL.md is a well-formed frame with a correct CRC."""
    examples = _doc_examples()
    assert len(examples) >= 10
    for raw in examples:
        out = FrameParser().feed(raw)
        assert len(out) == 1 and isinstance(out[0], Frame), raw.hex(" ")
        assert out[0].encode() == raw


def test_protocol_md_examples_match_the_encoder() -> None:
    """The documented frames are exactly what the host and device codecs produce."""
    examples = set(_doc_examples())
    assert encode_frame(1, Cmd.IDENTIFY) in examples
    ident = encode_identity(1, (1, 0, 0), 0x52470001, "RIG-328P")
    assert encode_frame(1, Msg.ACK, ident) in examples
    status = Status(True, False, False, False, False, 204, 900, 900, 0)
    assert encode_frame(2, Msg.ACK, encode_status(status)) in examples
    assert encode_frame(4, Cmd.ROTATE_TO, (900).to_bytes(2, "little")) in examples
    assert encode_frame(7, Cmd.EVENT_ACK) in examples
    assert decode_identity(ident).serial == "52470001"
    assert decode_status(encode_status(status)) == status


@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_crash_the_parser(data: bytes) -> None:
    """Line noise of any shape is consumed without an exception and without unbounded buffering."""
    p = FrameParser()
    for i in range(0, len(data), 7):
        for item in p.feed(data[i : i + 7]):
            assert isinstance(item, Frame | BadFrame)
    assert p.pending <= len(data)
    assert p.pending < 2 + MAX_PAYLOAD + 6


@given(frames, st.binary(max_size=60), st.integers(1, 60))
def test_encode_decode_roundtrip_through_noise(frame: Frame, noise: bytes, chunk: int) -> None:
    """A frame is recovered intact after noise (without a sync byte) and split into any chunk sizes."""
    noise = noise.replace(b"\xa5", b"")
    data = noise + frame.encode()
    p = FrameParser()
    got: list[Frame | BadFrame] = []
    for i in range(0, len(data), chunk):
        got += p.feed(data[i : i + chunk])
    assert frame in got


@given(frames, st.data())
@settings(max_examples=300)
def test_any_single_bit_flip_is_detected(frame: Frame, data: st.DataObject) -> None:
    """Flipping any one bit of a frame never yields the original frame; past the length byte
    it always yields a CRC failure (CRC-16 catches every single-bit error)."""
    raw = bytearray(frame.encode())
    bit = data.draw(st.integers(0, len(raw) * 8 - 1))
    raw[bit // 8] ^= 1 << (bit % 8)
    out = FrameParser().feed(bytes(raw))
    assert frame not in out
    if bit // 8 >= 2:  # SEQ, ID, payload or CRC damaged; sync and length intact
        assert isinstance(out[0], BadFrame)
        assert not any(isinstance(x, Frame) and x.seq == frame.seq and x.msg_id == frame.msg_id for x in out)


def test_frame_after_truncated_frame_is_found() -> None:
    """A frame cut short (byte lost, cable pulled) does not swallow the good frame sent after it."""
    good = encode_frame(9, Cmd.GET_STATUS)
    truncated = encode_frame(8, Cmd.ECHO, b"x" * 20)[:10]
    p = FrameParser()
    assert p.feed(truncated + good) == []  # still waiting for the rest of the long frame
    assert Frame(9, Cmd.GET_STATUS) in p.expire()  # the line went idle: resynchronise
    assert p.pending == 0


def test_oversized_length_is_skipped() -> None:
    """A length byte over the maximum is treated as noise, not as a huge frame to wait for."""
    p = FrameParser()
    out = p.feed(b"\xa5\xff" + encode_frame(3, Cmd.HOME))
    assert out == [Frame(3, Cmd.HOME)]
    assert p.bad_length == 1
