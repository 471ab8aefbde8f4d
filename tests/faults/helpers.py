"""Shared pieces of the fault tests: ports, a TCP proxy that can be cut, gunicorn servers."""

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A port the system picks (never a fixed one: test runs side by side on one machine,
    and other servers, must not meet on it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def service_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


class TcpProxy:
    """Forwards 127.0.0.1:port to a real service until cut(): then every connection is closed
    and new ones are refused, as when the service (or the network to it) goes away."""

    def __init__(self, target: tuple[str, int], port: int) -> None:
        self.target, self.port = target, port
        self.connections: list[socket.socket] = []
        self.lock = threading.Lock()
        self.listener: socket.socket | None = None

    def start(self) -> "TcpProxy":
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        if self.listener is not None:
            # shutdown() wakes the thread in accept() (close() alone would leave it listening).
            with contextlib.suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)
            self.listener.close()
            self.listener = None
        with self.lock:
            connections, self.connections = self.connections, []
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict

    def json(self):
        return json.loads(self.body)


def http_request(
    port: int, method: str, path: str, body=None, headers=None, timeout: float = 15
) -> Answer:
    """One request on a fresh connection; raises OSError (and http.client errors) when the
    connection breaks, as a client sees a killed worker."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = json.dumps(body).encode() if body is not None else None
        all_headers = {"Content-Type": "application/json"} if data is not None else {}
        all_headers.update(headers or {})
        connection.request(method, path, body=data, headers=all_headers)
        response = connection.getresponse()
        return Answer(response.status, response.read(), dict(response.getheaders()))
    finally:
        connection.close()


@dataclass
class Gunicorn:
    process: subprocess.Popen
    port: int
    log: Path

    def worker_pids(self) -> list[int]:
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # The parent pid is the second field after the command in parentheses.
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                pids.append(int(entry.name))
        return sorted(pids)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def start_gunicorn(
    database_uri: str,
    port: int,
    workdir: Path,
    workers: int = 3,
    env: dict | None = None,
    app: str = "wsgi:app",
    extra_args: tuple[str, ...] = (),
) -> Gunicorn:
    """Our gunicorn.conf.py on one port, against the test database; waits for /healthz."""
    log = workdir / f"gunicorn-{port}.log"
    environment = {
        **os.environ,
        "BOOKING_ENVIRONMENT": "testing",
        "BOOKING_SECRET_KEY": "fault-test-secret",
        "BOOKING_SQLALCHEMY_DATABASE_URI": database_uri,
        "BOOKING_RATELIMIT_ENABLED": "false",
        "PYTHONPATH": str(ROOT),
        **(env or {}),
    }
    with log.open("w") as output:  # the child keeps its own copy of the file
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                str(ROOT / "gunicorn.conf.py"),
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{port}",
                "--graceful-timeout",
                "3",
                "--access-logfile",
                "-",
                *extra_args,
                app,
            ],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: cleaned up with it
        )
    server = Gunicorn(process, port, log)
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn did not start:\n{server.log_text()[-3000:]}")
        try:
            answer = http_request(port, "GET", "/healthz", timeout=2)
            if answer.status == 200 and len(server.worker_pids()) >= workers:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"gunicorn did not answer within 40 s:\n{server.log_text()[-3000:]}")
