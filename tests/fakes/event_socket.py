"""A fake FreeSWITCH event socket (mod_event_socket's inbound text protocol) on loopback.

It greets with ``Content-Type: auth/request``, accepts ``auth PASSWORD``, answers ``api`` commands
with ``api/response`` bodies, ``bgapi`` with a Job-UUID and ``sendevent`` with ``+OK``, and says
goodbye on ``exit``, as FreeSWITCH does. Every command after a successful auth is recorded in
``received`` (its kind, text and headers), so tests check exactly what a script told the switch.
The answers a PBX would give are simulated: ``sofia_contact */EXT@DOMAIN`` is a contact for the
(domain, extension) pairs in ``registered`` and ``error/user_not_registered`` otherwise; ``status``
reports an uptime and version. ``refuse_connections`` makes it hang up at once, like a switch
that is down.
"""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

STATUS = (
    "UP 0 years, 0 days, 3 hours, 12 minutes, 5 seconds, 120 milliseconds, 7 microseconds\n"
    "FreeSWITCH (Version 1.10.12 -release 64bit) is ready\n"
    "42 session(s) since startup\n"
)
NOT_REGISTERED = "error/user_not_registered"


@dataclass(frozen=True, slots=True)
class EslCommand:
    """One command the fake received: ``api``, ``bgapi`` or ``sendevent``, its text, headers."""

    kind: str
    text: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeEventSocket:
    """The switch's state as the scripts can see it, and what they sent."""

    password: str = "ClueCon-Test-7"
    registered: set[tuple[str, str]] = field(default_factory=set)
    refuse_connections: bool = False
    received: list[EslCommand] = field(default_factory=list)
    failed_logins: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reset(self) -> None:
        """Forget what was received and registered, and accept connections again."""
        with self._lock:
            self.received.clear()
            self.registered.clear()
            self.refuse_connections = False
            self.failed_logins = 0

    def api_commands(self) -> list[str]:
        """Return the text of every ``api`` command received, in order."""
        with self._lock:
            return [command.text for command in self.received if command.kind == "api"]

    def events(self) -> list[EslCommand]:
        """Return every ``sendevent`` received, in order."""
        with self._lock:
            return [command for command in self.received if command.kind == "sendevent"]

    def record(self, command: EslCommand) -> None:
        """Remember a command (called by the connection handler)."""
        with self._lock:
            self.received.append(command)

    def answer(self, command: str) -> str:
        """Return what FreeSWITCH would print for the api command ``command``."""
        name, _, argument = command.partition(" ")
        if name == "status":
            return STATUS
        if name == "sofia_contact":
            profile, _, user = argument.partition("/")
            extension, _, domain = user.partition("@")
            with self._lock:
                known = (domain, extension) in self.registered
            if profile and known:
                return f"sofia/internal/sip:{extension}@192.0.2.10:5060"
            return NOT_REGISTERED
        if name == "sofia" and " killgw " in argument:
            return "+OK gateway marked for deletion.\n"
        if name == "sofia" and argument.endswith(" rescan"):
            return "+OK scan complete\n"
        if name == "reloadxml":
            return "+OK [Success]\n"
        return "+OK\n"


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        fake = self.server.fake
        if fake.refuse_connections:
            return
        self._send("Content-Type: auth/request\n\n")
        authenticated = False
        while True:
            block = self._read_block()
            if block is None:
                return
            first, headers = block
            verb, _, rest = first.partition(" ")
            if verb == "auth":
                authenticated = rest == fake.password
                if not authenticated:
                    fake.failed_logins += 1
                    self._reply("-ERR invalid")
                    self._send(
                        "Content-Type: text/disconnect-notice\nContent-Length: 23\n\n"
                        "Disconnected, goodbye.\n"
                    )
                    return
                self._reply("+OK accepted")
            elif not authenticated:
                self._reply("-ERR invalid")
            elif verb == "api":
                fake.record(EslCommand("api", rest, headers))
                body = fake.answer(rest).encode()
                self._send(f"Content-Type: api/response\nContent-Length: {len(body)}\n\n")
                self.wfile.write(body)
            elif verb == "bgapi":
                fake.record(EslCommand("bgapi", rest, headers))
                job = "7f4de4bc-17d7-11dd-b7a0-db4edd065621"
                self._send(
                    f"Content-Type: command/reply\nReply-Text: +OK Job-UUID: {job}\n"
                    f"Job-UUID: {job}\n\n"
                )
            elif verb == "sendevent":
                fake.record(EslCommand("sendevent", rest, headers))
                self._reply("+OK")
            elif verb == "exit":
                self._reply("+OK bye")
                return
            else:
                self._reply("-ERR command not found")

    def _read_block(self) -> tuple[str, dict[str, str]] | None:
        lines: list[str] = []
        while True:
            raw = self.rfile.readline()
            if not raw:
                return None
            line = raw.decode().rstrip("\r\n")
            if line == "":
                if lines:
                    break
                continue
            lines.append(line)
        headers = dict(
            (key.strip(), value.strip())
            for key, _, value in (line.partition(":") for line in lines[1:])
        )
        return lines[0], headers

    def _reply(self, text: str) -> None:
        self._send(f"Content-Type: command/reply\nReply-Text: {text}\n\n")

    def _send(self, text: str) -> None:
        self.wfile.write(text.encode())


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, fake: FakeEventSocket) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


@contextmanager
def serve_event_socket(fake: FakeEventSocket) -> Iterator[int]:
    """Serve ``fake`` on 127.0.0.1 for the duration of the block; yield its port."""
    server = _Server(fake)
    thread = threading.Thread(target=server.serve_forever, name="fake-esl", daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
