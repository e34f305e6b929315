"""A fake Slack Socket Mode endpoint on loopback: a minimal RFC 6455 websocket server (standard library only).

It takes one client at a time: the opening handshake, then frames. It says `hello` as Slack does, answers
pings with pongs and a close with a close, and keeps every text frame the client sends (the acks, as JSON).
`send` pushes an envelope to the connected client. Enough of the protocol for slack_sdk's built-in client:
unfragmented frames, no extensions.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import struct
import threading
import time
from typing import Any

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


class FakeSocketMode:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.connections = 0
        self._client: socket.socket | None = None
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)  # accept() wakes up to notice `stop`
        self._thread = threading.Thread(target=self._serve, name="fake-socket-mode", daemon=True)
        self.url = f"ws://127.0.0.1:{self._listener.getsockname()[1]}/link/?ticket=fake-ticket"

    def start(self) -> FakeSocketMode:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        with self._lock:
            if self._client is not None:
                self._client.shutdown(socket.SHUT_RDWR)
        self._thread.join(5)
        self._listener.close()

    def send(self, message: dict[str, Any]) -> None:
        with self._lock:
            assert self._client is not None, "no Socket Mode client is connected"
            self._client.sendall(_frame(TEXT, json.dumps(message).encode()))

    def wait_for(self, check: Any, timeout: float = 10.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                found = check()
            if found:
                return found
            time.sleep(0.02)
        raise AssertionError(f"the Socket Mode client never did what the test waited for; received: {self.received}")

    def acks(self, envelope_id: str) -> list[dict[str, Any]]:
        return [m for m in self.received if m.get("envelope_id") == envelope_id]

    # --- the server -------------------------------------------------------------------------------------------
    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            client.settimeout(None)
            with client:
                try:
                    self._handshake(client)
                    with self._lock:
                        self._client, self.connections = client, self.connections + 1
                    self.send({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"}})
                    self._frames(client)
                except (OSError, ConnectionError):
                    pass
                finally:
                    with self._lock:
                        self._client = None

    def _handshake(self, client: socket.socket) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = client.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            request += chunk
        headers = dict(
            (name.strip().lower(), value.strip())
            for name, _, value in (line.partition(":") for line in request.decode().split("\r\n")[1:] if line)
        )
        accept = base64.b64encode(hashlib.sha1((headers["sec-websocket-key"] + GUID).encode()).digest()).decode()
        client.sendall(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept}\r\n\r\n".encode()
        )

    def _frames(self, client: socket.socket) -> None:
        while True:
            opcode, payload = _read_frame(client)
            if opcode == TEXT:
                with self._lock:
                    self.received.append(json.loads(payload))
            elif opcode == PING:
                with self._lock:
                    client.sendall(_frame(PONG, payload))
            elif opcode == CLOSE:
                with self._lock:
                    client.sendall(_frame(CLOSE, payload[:2]))
                return


def _read_exactly(client: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = client.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the client went away")
        data += chunk
    return data


def _read_frame(client: socket.socket) -> tuple[int, bytes]:
    """One client frame (clients always mask): its opcode and unmasked payload."""
    first, second = _read_exactly(client, 2)
    size = second & 0x7F
    if size == 126:
        (size,) = struct.unpack("!H", _read_exactly(client, 2))
    elif size == 127:
        (size,) = struct.unpack("!Q", _read_exactly(client, 8))
    mask = _read_exactly(client, 4) if second & 0x80 else b"\0\0\0\0"
    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(_read_exactly(client, size)))
    return first & 0x0F, payload


def _frame(opcode: int, payload: bytes) -> bytes:
    """One unmasked, final server frame."""
    head = bytes([0x80 | opcode])
    if len(payload) < 126:
        head += bytes([len(payload)])
    elif len(payload) < 1 << 16:
        head += bytes([126]) + struct.pack("!H", len(payload))
    else:
        head += bytes([127]) + struct.pack("!Q", len(payload))
    return head + payload
