"""Not a test module: the process ``tests/conftest.py`` copies and drops its PostgreSQL test
databases through while the tests run.

It reads the server's URL, then one statement a line, from stdin; runs each in turn on one
connection; and writes ``ok`` or ``error <what the server said>`` a line for each. It stops
when stdin ends, after the statements already sent. Ctrl-C is for the run it serves, which
stops it by closing stdin once its own clean-up is done.
"""

from __future__ import annotations

import asyncio
import signal
import sys

import asyncpg


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    loop = asyncio.new_event_loop()
    try:
        conn = loop.run_until_complete(asyncpg.connect(sys.stdin.readline().strip()))
        try:
            for line in sys.stdin:
                try:
                    loop.run_until_complete(conn.execute(line))
                except asyncpg.PostgresError as exc:
                    answer = f"error {type(exc).__name__}: {exc}".replace("\n", " ")
                else:
                    answer = "ok"
                print(answer, flush=True)
        finally:
            loop.run_until_complete(conn.close())
    finally:
        loop.close()


if __name__ == "__main__":
    main()
