"""Run the test suite on a fresh PostgreSQL database, then drop it.

Usage: python tests/pg_run.py PYTEST [ARGS...]
BOOKING_PG_ADMIN_URI names the server (default: postgres on 127.0.0.1:5432, trust auth).
"""

import os
import secrets
import subprocess
import sys

import psycopg

ADMIN_URI = os.environ.get("BOOKING_PG_ADMIN_URI", "postgresql://postgres@127.0.0.1:5432/postgres")


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    name = f"sprechstunde_test_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_URI, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN_URI.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    env = dict(os.environ, BOOKING_TEST_DATABASE_URI=f"{base}/{name}")
    print(f"PostgreSQL test database: {name}", flush=True)
    try:
        return subprocess.call(argv, env=env)
    finally:
        with psycopg.connect(ADMIN_URI, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
