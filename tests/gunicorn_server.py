"""Start the real gunicorn (gunicorn.conf.py, wsgi:app) on a port of its own, for tests."""

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


def production_env(database_uri: str, **extra: str) -> dict[str, str]:
    """A production environment for gunicorn: our settings only, none of the caller's BOOKING_*."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BOOKING_", "GUNICORN_", "PROMETHEUS_")) and key != "WEB_CONCURRENCY"
    }
    env.update(
        {
            "BOOKING_ENVIRONMENT": "production",
            "BOOKING_SECRET_KEY": "f" * 64,
            "BOOKING_PUBLIC_BASE_URL": "https://termine.example.org",
            "BOOKING_TRUSTED_HOSTS": "termine.example.org,127.0.0.1,localhost",
            "BOOKING_SQLALCHEMY_DATABASE_URI": database_uri,
            "BOOKING_RATELIMIT_STORAGE_URI": "memory://",
            "BOOKING_ARGON2_TIME_COST": "1",
            "BOOKING_ARGON2_MEMORY_COST": "1024",
            "BOOKING_ARGON2_PARALLELISM": "1",
            "GUNICORN_WORKERS": "1",
        }
    )
    env.update(extra)
    return env


def run_gunicorn(env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    """Run gunicorn to its end (for refusals: it must stop by itself)."""
    return subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class Server:
    process: subprocess.Popen
    url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        return self.log()


def start_gunicorn(env: dict[str, str], port: int, log_path: Path, timeout: float = 60) -> Server:
    """Start gunicorn on 127.0.0.1:port and wait until /healthz answers 200."""
    env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}"}
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    server = Server(process, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn stopped ({process.returncode}):\n{server.log()}")
        try:
            if requests.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                return server
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"gunicorn did not answer on port {port}:\n{server.log()}")
