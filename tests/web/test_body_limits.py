"""Request bodies are limited while they arrive, on a real uvicorn server over a real socket, and a
refused request's error body never echoes what was sent."""

from __future__ import annotations

import select
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from browser import LiveServer
from fastapi.testclient import TestClient

from inspector.config import Settings
from inspector.photostore import UPLOADS_DIR
from inspector.web.app import MAX_BODY_BYTES, create_app
from warranty.web.forms import MAX_FORM_BYTES

MiB = 1024 * 1024
HUGE = 200 * MiB
PIECE = b"a" * (64 * 1024)
# What may be in flight when the server answers: the client's send buffer, the server's receive
# buffer and uvicorn's read-ahead. Far below the 200 MB the client meant to send.
IN_FLIGHT = 16 * MiB
MARKER = "ZZ-ECHO-MARKER-ZZ"


@dataclass(frozen=True)
class Exchange:
    status: int
    body: bytes
    sent: int  # body bytes the client had handed to the network when the answer arrived


def _response_complete(data: bytes) -> bool:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return False


def post_streaming(port: int, path: str, headers: dict[str, str], pieces: Iterator[bytes]) -> Exchange:
    """POST a body piece by piece, stopping as soon as the server has answered."""
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    chunked = headers.get("Transfer-Encoding") == "chunked"
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode())
        sock.setblocking(False)
        received = b""
        sent = 0
        pending = b""
        more = True
        while not _response_complete(received):
            if not pending and more:
                piece = next(pieces, None)
                if piece is None:
                    more = False
                    pending = b"0\r\n\r\n" if chunked else b""
                else:
                    pending = f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece
            readable, writable, _ = select.select([sock], [sock] if pending else [], [], 30)
            assert readable or writable, "the server neither read nor answered for 30 s"
            if readable:
                data = sock.recv(65536)
                if not data:
                    break
                received += data
            elif writable:
                try:
                    n = sock.send(pending)
                except (BrokenPipeError, ConnectionResetError):
                    pending, more = b"", False
                    continue
                sent += n
                pending = pending[n:]
    status_line = received.split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 "), received[:200]
    return Exchange(int(status_line.split()[1]), received.partition(b"\r\n\r\n")[2], sent)


def json_pieces(total: int) -> Iterator[bytes]:
    yield b'{"cert": "T0000001", "problem": "functional_fault", "description": "'
    for _ in range(total // len(PIECE)):
        yield PIECE
    yield b'"}'


def multipart_pieces(boundary: str, total: int) -> Iterator[bytes]:
    fields = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in (("cert", "T0000001"), ("order_ref", "ORD-1001"), ("problem", "functional_fault"))
    )
    yield (
        fields + f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="big.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode() + b"\xff\xd8\xff"
    for _ in range(total // len(PIECE)):
        yield PIECE
    yield f"\r\n--{boundary}--\r\n".encode()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("limits"))
    with live.running():
        yield live


def test_a_200_mb_json_body_is_refused_before_the_server_reads_it(server: LiveServer) -> None:
    """A declared 200 MB JSON body gets 413 while the client is still sending, not after buffering it."""
    answer = post_streaming(
        server.port,
        "/api/warranty/claims",
        {"Content-Type": "application/json", "Content-Length": str(HUGE + 100)},
        json_pieces(HUGE),
    )
    assert answer.status == 413
    assert answer.sent < MAX_BODY_BYTES + IN_FLIGHT, f"client had sent {answer.sent} bytes"
    assert len(answer.body) < 200


def test_a_chunked_json_body_is_counted_while_it_arrives(server: LiveServer) -> None:
    """Without a Content-Length (chunked), the limit is enforced on the bytes received: 413 past 1 MiB."""
    answer = post_streaming(
        server.port,
        "/api/warranty/claims",
        {"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        json_pieces(HUGE),
    )
    assert answer.status == 413
    assert answer.sent < MAX_BODY_BYTES + IN_FLIGHT, f"client had sent {answer.sent} bytes"
    assert b"aaaa" not in answer.body


def test_a_chunked_multipart_upload_over_the_limit_is_refused_without_a_big_temp_file(
    server: LiveServer,
) -> None:
    """A chunked 200 MB photo upload is refused once it passes the photo form's limit; the server got at
    most that much (so at most that much could be spooled to a temp file) and stored nothing."""
    boundary = "b0undary7MA4YWxkTrZu0gW"
    answer = post_streaming(
        server.port,
        "/claims/new",
        {"Content-Type": f"multipart/form-data; boundary={boundary}", "Transfer-Encoding": "chunked"},
        multipart_pieces(boundary, HUGE),
    )
    assert answer.status == 413 and b"the upload is too large" in answer.body
    assert answer.sent < MAX_FORM_BYTES + IN_FLIGHT, f"client had sent {answer.sent} bytes"
    uploads: Path = server.settings.data_dir / UPLOADS_DIR
    assert not uploads.exists() or not any(p.is_file() for p in uploads.rglob("*"))


def test_validation_errors_name_the_field_but_never_echo_the_input(tmp_path: Path) -> None:
    """A 422 says which field is wrong and why, without the value sent (nor a key taken from it)."""
    app = create_app(Settings(data_dir=tmp_path))
    with TestClient(app) as client:
        long = client.post(
            "/api/warranty/claims",
            json={"cert": "T1", "problem": "functional_fault", "description": MARKER * 20_000},
        )
        assert long.status_code == 422
        assert MARKER not in long.text and len(long.content) < 1000
        assert long.json()["detail"][0]["loc"] == ["body", "description"]
        assert "input" not in long.json()["detail"][0]

        forged = client.post(
            "/api/warranty/claims/C1/reinspection",
            json={"grade": "B", "photos": [f"<script>{MARKER}</script>"], MARKER * 50: 1},
        )
        assert forged.status_code == 422
        assert MARKER not in forged.text and "<script>" not in forged.text
        assert {tuple(p["loc"][:2]) for p in forged.json()["detail"]} >= {("body", "photos")}

        many = client.post(
            "/api/warranty/claims/C1/reinspection",
            json={"grade": "B", "defects": [{"kind": ""} for _ in range(150)]},
        )
        assert many.status_code == 422 and len(many.json()["detail"]) == 21  # 20 problems + "and 130 more"
