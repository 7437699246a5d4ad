"""Booking rush: N concurrent clients try to book M slots through the HTTP API of a running server on PostgreSQL.

    .venv/bin/python bench/booking_rush.py [--clients 200] [--slots 20]     (or `make bench-booking`)

It creates a fresh PostgreSQL database (``--database-url``, on 127.0.0.1), migrates it, seeds one prison with M
one-place slots three days ahead and N/2 people in custody with two approved contacts each (signed-in sessions
made directly in the session store), starts uvicorn on 127.0.0.1 (two worker processes), and then:

1. warms the server up with two uncounted rounds of the next step, then measures a trivial authenticated
   endpoint (GET /api/v1/me) with the same N clients, two requests each;
2. lets the N clients loose on POST /api/v1/booking-requests, all released together: each tries its own slot and,
   while the answer is 409 (full), the next one, at most three tries. The two contacts of a person try different
   slots at the same moment, so the person's allowance (PF 4.1: one 60-minute call a month) is raced too.

Then it counts from the database: active bookings per slot against capacity (double bookings) and each person's
ledger per month against the allowance (overspent). It prints, last, one line:

    booked=<n> capacity=<m> double_bookings=<n> overspent=<n> p95_ms=<n> throughput_ratio=<x>

``throughput_ratio`` is booking requests per second over /me requests per second. Exit status: 1 when anything
was double-booked or overspent, 2 when the server answered a request with a 5xx or not at all, else 0.
Everything runs on loopback; request counts and waits are bounded. The database is dropped at the end unless
``--keep``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
HOST = "127.0.0.1"
MAX_TRIES = 3
WARM_UP_ROUNDS = 2
REQUEST_TIMEOUT = 60.0


@dataclass
class Client:
    index: int
    session_key: str
    csrf_secret: str
    csrf_token: str
    resident_id: str
    slot_ids: list[str] = field(default_factory=list)


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, status: int, seconds: float) -> None:
        with self.lock:
            self.statuses[status] += 1
            self.latencies.append(seconds)


def server_env(
    database_url: str, *, pool: bool = False, concurrency: int = 8, prepared: bool = True
) -> dict[str, str]:
    """The production profile (DEBUG off) on plain HTTP and loopback, with a throwaway secret; with ``pool``,
    Django's psycopg connection pool sized to the requests a worker serves at once; ``prepared``:
    DATABASE_PREPARED_STATEMENTS."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KINSHIP_", "DJANGO_", "DATABASE_")) and key not in {"DEBUG"}
    }
    env |= {
        "KINSHIP_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": database_url,
        "ALLOWED_HOSTS": HOST,
        "KINSHIP_SECURE_COOKIES": "false",
        "SECURE_SSL_REDIRECT": "false",
        "NOTIFY_API_KEY": "",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONPATH": str(ROOT),
        "KINSHIP_BENCH_CONCURRENCY": str(concurrency),
        "DATABASE_PREPARED_STATEMENTS": "on" if prepared else "off",
    }
    if pool:
        env |= {
            "DATABASE_POOL": "1",
            "DATABASE_POOL_MIN_SIZE": "4",
            "DATABASE_POOL_MAX_SIZE": str(concurrency),
        }
    return env


def admin_url(database_url: str) -> tuple[str, str]:
    parts = urlsplit(database_url)
    if parts.hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit("The benchmark only uses a database on this machine (127.0.0.1).")
    return urlunsplit(parts._replace(path="/postgres")), parts.path.lstrip("/")


def recreate_database(database_url: str, *, drop_only: bool = False) -> None:
    import psycopg

    url, name = admin_url(database_url)
    if not name.replace("_", "").isalnum():
        raise SystemExit(f"Unexpected database name {name!r}")
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            connection.execute(f'CREATE DATABASE "{name}"')


def seed(env: dict[str, str], *, residents: int, slots: int) -> dict[str, Any]:
    """Run in a child process (Django configured for the bench database): returns the clients as JSON."""
    script = f"""
import json, django
django.setup()
from bench.seed import seed
print(json.dumps(seed(residents={residents}, slots={slots})))
"""
    done = subprocess.run(  # noqa: S603 - our own interpreter and scripts, fixed arguments
        [PYTHON, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"Seeding failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


SERVER_LOG = ROOT / "var" / "bench-server.log"


def start_server(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    """uvicorn on loopback; its output (4xx warnings from django.request, any traceback) goes to SERVER_LOG."""
    SERVER_LOG.parent.mkdir(parents=True, exist_ok=True)
    log = SERVER_LOG.open("wb")
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and scripts, fixed arguments
        [
            str(ROOT / ".venv" / "bin" / "uvicorn"),
            "bench.bounded_asgi:application",
            "--host",
            HOST,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--lifespan",
            "off",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("The server did not start.")
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    stop_server(server)
    raise SystemExit("The server did not answer within 60 seconds.")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


def cpu_seconds(server: subprocess.Popen[bytes]) -> tuple[float, float] | None:
    """CPU time used so far by the server (its process group: uvicorn and its workers) and by PostgreSQL (every
    ``postgres`` process, with the postmaster's count of the backends it has reaped), from /proc; None where
    there is no /proc."""
    if not Path("/proc/self/stat").exists():
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    used = {"server": 0, "postgres": 0}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # ended while we looked
        name, _, rest = text.partition(" (")[2].rpartition(") ")
        fields = rest.split()
        # After the name: state, ppid, pgrp, ... utime, stime, cutime, cstime at 11-14 (proc(5), from 0).
        spent = sum(int(value) for value in fields[11:15])
        if int(fields[2]) == server.pid:
            used["server"] += spent
        elif name == "postgres":
            used["postgres"] += spent
    return used["server"] / ticks, used["postgres"] / ticks


def call(
    connection: http.client.HTTPConnection,
    client: Client,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> tuple[int, dict[str, Any] | list[Any] | None]:
    headers = {
        "Host": HOST,
        "Cookie": f"sessionid={client.session_key}; csrftoken={client.csrf_secret}",
        "Accept": "application/json",
    }
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers |= {"Content-Type": "application/json", "X-CSRFToken": client.csrf_token}
    connection.request(method, path, body=data, headers=headers)
    response = connection.getresponse()
    raw = response.read()
    try:
        return response.status, json.loads(raw) if raw else None
    except ValueError:
        return response.status, None


def run_clients(
    clients: list[Client], port: int, work: Callable[[http.client.HTTPConnection, Client, Results], None]
) -> tuple[Results, float]:
    """Every client in its own thread with its own keep-alive connection, all released together."""
    results = Results()
    barrier = threading.Barrier(len(clients) + 1)

    def worker(client: Client) -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
        connection.connect()
        barrier.wait()
        try:
            work(connection, client, results)
        except (OSError, http.client.HTTPException):
            results.record(599, REQUEST_TIMEOUT)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(client,), daemon=True) for client in clients]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT * (MAX_TRIES + 1))
    return results, time.perf_counter() - started


def trivial(connection: http.client.HTTPConnection, client: Client, results: Results) -> None:
    for _ in range(2):
        started = time.perf_counter()
        status, _body = call(connection, client, "GET", "/api/v1/me", None)
        results.record(status, time.perf_counter() - started)


def booking(connection: http.client.HTTPConnection, client: Client, results: Results) -> None:
    for slot_id in client.slot_ids[:MAX_TRIES]:
        started = time.perf_counter()
        status, _body = call(
            connection,
            client,
            "POST",
            "/api/v1/booking-requests",
            {"slot_id": slot_id, "resident_id": client.resident_id},
        )
        results.record(status, time.perf_counter() - started)
        if status != 409:  # booked, or refused for a reason another slot would not change
            return


def p95(values: list[float]) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[94]


def check(env: dict[str, str]) -> dict[str, int]:
    script = """
import json, django
django.setup()
from bench.seed import tally
print(json.dumps(tally()))
"""
    done = subprocess.run(  # noqa: S603 - our own interpreter and scripts, fixed arguments
        [PYTHON, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"Counting failed:\n{done.stderr[-4000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--slots", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (default 2)")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=int(os.environ.get("KINSHIP_BENCH_CONCURRENCY", "8")),
        help="requests each worker serves at once, the rest queued (default 8)",
    )
    parser.add_argument(
        "--pool",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="Django's psycopg connection pool in the server, DATABASE_POOL=1 (default on)",
    )
    parser.add_argument(
        "--prepared-statements",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="PostgreSQL prepares the booking reads' statements, DATABASE_PREPARED_STATEMENTS (default on)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kinship_bench"),
    )
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    args = parser.parse_args()
    if args.clients < 2 or args.clients > 1000 or args.slots < 1 or args.slots > 500:
        raise SystemExit("Use 2-1000 clients and 1-500 slots.")
    if args.workers < 1 or args.workers > 8 or args.concurrency < 1 or args.workers * args.concurrency > 80:
        raise SystemExit("Use 1-8 workers and at most 80 requests at once in all (PostgreSQL allows 100).")

    env = server_env(
        args.database_url, pool=args.pool, concurrency=args.concurrency, prepared=args.prepared_statements
    )
    print(f"Creating the database and migrating ({args.database_url}) ...", flush=True)
    recreate_database(args.database_url)
    server = None
    before_me = before_rush = after_rush = None
    try:
        subprocess.run(  # noqa: S603 - our own interpreter and scripts, fixed arguments
            [PYTHON, "manage.py", "migrate", "--no-input", "-v", "0"], env=env, cwd=ROOT, check=True
        )
        print(f"Seeding {args.slots} slots and {args.clients} contacts ...", flush=True)
        seeded = seed(env, residents=(args.clients + 1) // 2, slots=args.slots)
        slot_ids: list[str] = seeded["slots"]
        clients = []
        for index, row in enumerate(seeded["clients"][: args.clients]):
            order = [slot_ids[(index + step) % len(slot_ids)] for step in range(len(slot_ids))]
            clients.append(Client(index=index, slot_ids=order, **row))
        port = free_port()
        server = start_server(env, port, args.workers)
        print(
            f"Server on http://{HOST}:{port}, {args.workers} workers x {args.concurrency} requests at once, "
            f"connection pool {'on' if args.pool else 'off'}",
            flush=True,
        )

        # Warm-up, not counted: lazy imports, and every worker's threads and pooled connections grown to the
        # concurrency the measured phases use. Measured cold, /me ran at half its warm rate (89-135/s against
        # 183-190/s in one run), which flattered the ratio.
        for _round in range(WARM_UP_ROUNDS):
            run_clients(clients, port, trivial)
        before_me = cpu_seconds(server)
        me, me_seconds = run_clients(clients, port, trivial)
        before_rush = cpu_seconds(server)
        rush, rush_seconds = run_clients(clients, port, booking)
        after_rush = cpu_seconds(server)
    finally:
        if server is not None:
            stop_server(server)
    counts = check(env)
    if not args.keep:
        recreate_database(args.database_url, drop_only=True)

    me_rate = sum(me.statuses.values()) / me_seconds
    rush_rate = sum(rush.statuses.values()) / rush_seconds
    server_errors = sum(n for status, n in (me.statuses + rush.statuses).items() if status >= 500)
    print(
        f"GET /api/v1/me: {dict(me.statuses)} in {me_seconds:.2f}s = {me_rate:.0f}/s, "
        f"p95 {p95(me.latencies) * 1000:.0f} ms"
    )
    print(
        f"POST /api/v1/booking-requests: {dict(rush.statuses)} in {rush_seconds:.2f}s = {rush_rate:.0f}/s, "
        f"p50 {statistics.median(rush.latencies) * 1000:.0f} ms"
    )
    if before_me and before_rush and after_rush:
        me_count, rush_count = sum(me.statuses.values()), sum(rush.statuses.values())
        print(
            "CPU per request, server + PostgreSQL: "
            f"/me {1000 * (before_rush[0] - before_me[0]) / me_count:.2f} + "
            f"{1000 * (before_rush[1] - before_me[1]) / me_count:.2f} ms, "
            f"booking {1000 * (after_rush[0] - before_rush[0]) / rush_count:.2f} + "
            f"{1000 * (after_rush[1] - before_rush[1]) / rush_count:.2f} ms"
        )
    print(f"server errors (5xx or no answer): {server_errors}; server log in {SERVER_LOG}")
    print(
        f"booked={counts['booked']} capacity={counts['capacity']} double_bookings={counts['double_bookings']} "
        f"overspent={counts['overspent']} p95_ms={p95(rush.latencies) * 1000:.0f} "
        f"throughput_ratio={rush_rate / me_rate:.2f}"
    )
    if counts["double_bookings"] or counts["overspent"]:
        return 1
    return 2 if server_errors else 0


if __name__ == "__main__":
    sys.exit(main())
