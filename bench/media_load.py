"""Media load: K concurrent live calls through Kinship's own signalling and a real Janus, for S seconds.

    .venv/bin/python bench/media_load.py [--calls 3] [--seconds 20]     (or `make bench-media`; needs root)

ICE cannot run over plain loopback (Janus skips loopback interfaces, aioice drops 127.0.0.1), so, as the media tests
do, it creates a private network namespace with a veth pair on 127.0.0.2 and runs everything in it: Janus with the
configuration the project generates (``manage.py janus_config``), a uvicorn server running ``config.asgi`` (the
production profile, one process, the in-memory channel layer) on a throwaway SQLite database it migrates and seeds
(bench/media_seed.py: K live prison calls, each watched), and one aiortc process per call (bench/media_peers.py)
whose resident, contact and monitor join through the WebSocket at once; the parties publish synthetic audio and
video, everyone receives what Kinship offers them, and frames are counted.

Once every participant has decoded remote video, it measures for S seconds and prints, last, one line:

    calls=<k> frames_ratio=<x> monitor_audio_packets=<n> join_p50_ms=<n> janus_cpu_pct_per_call=<x>
    control_plane_cpu_ratio=<x>

- ``frames_ratio``: video frames decoded by every subscriber over the frames the parties sent that should have
  reached them (each party's video goes to the other party and to the monitor), over the measured window (frames
  in flight at the window's edges can put it a few thousandths above 1);
- ``monitor_audio_packets``: audio RTP packets that reached any monitor (must be 0, PF 4.21), counted both by
  aiortc's statistics and on the wire, before aiortc drops packets of a kind the monitor never negotiated;
- ``join_p50_ms``: median, over every participant, of the time from its ``join`` message to its first decoded
  remote video frame; all 3K participants join at the same moment (as when every call of a session starts), each
  socket opened and closed once before (``--no-warm`` to skip), so a fresh server's first imports are not timed;
  ``--timeline`` prints where each join's time went;
- ``janus_cpu_pct_per_call``: Janus's CPU (percent of one core) over the window, per call;
- ``control_plane_cpu_ratio``: the CPU of Kinship's own processes (the uvicorn server; with ``--watchdog`` also
  ``manage.py media_watch``) over Janus's, in the same window. Both from /proc/<pid>/stat; the aiortc peers, which
  stand in for browsers, are not counted.

Exit status: 1 if any monitor received audio, 2 if a call could not be set up or its media stopped, 3 if the
machine cannot run it (not root, no ``ip netns``, no ``janus``), else 0. Every wait is bounded; everything it
started is stopped and the namespace and the temporary folder are removed (``--keep`` keeps the folder and logs).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.booking_rush import server_env  # noqa: E402 - the production profile on plain HTTP, as that bench runs

PYTHON = str(ROOT / ".venv" / "bin" / "python")
HOST = "127.0.0.1"
PORT = 8000
JANUS_API = "http://127.0.0.1:8088/janus"
JANUS_ADMIN = "http://127.0.0.1:7088/admin"
READY_TIMEOUT = 60.0
STEP_TIMEOUT = 30.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
#: Below this many video frames a second per party (of 30) the media is taken to have stopped.
MIN_SEND_FPS = 20.0


class Unavailable(Exception):
    """This machine cannot run the benchmark."""


def _run(*args: str, timeout: float = 15) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)  # noqa: S603


@contextlib.contextmanager
def inside(namespace: str) -> Iterator[None]:
    """This thread in the namespace's network (to reach what listens on its loopback), then back."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/var/run/netns/{namespace}", os.O_RDONLY)
    try:
        os.setns(target, os.CLONE_NEWNET)
        yield
    finally:
        os.setns(own, os.CLONE_NEWNET)
        os.close(target)
        os.close(own)


def make_namespace() -> str:
    if os.geteuid() != 0:
        raise Unavailable("creating a network namespace for ICE needs root: run it as root (CI does).")
    if shutil.which("ip") is None:
        raise Unavailable("the `ip` command (iproute2) is missing.")
    if shutil.which("janus") is None:
        raise Unavailable("the janus binary is missing: apt-get install -y janus janus-tools")
    name = f"kinship-bench-{uuid.uuid4().hex[:8]}"
    created = _run("ip", "netns", "add", name)
    if created.returncode != 0:
        raise Unavailable(f"ip netns add failed: {created.stderr.strip()}")
    for step in (
        ("link", "set", "lo", "up"),
        ("link", "add", "v0", "type", "veth", "peer", "name", "v1"),
        ("addr", "add", "127.0.0.2/32", "dev", "v0"),
        ("link", "set", "v0", "up"),
        ("link", "set", "v1", "up"),
    ):
        result = _run("ip", "-n", name, *step)
        if result.returncode != 0:
            _run("ip", "netns", "delete", name)
            raise Unavailable(
                f"setting up the namespace failed (ip {' '.join(step)}): {result.stderr.strip()}"
            )
    return name


def wait_for_port(namespace: str, port: int, process: subprocess.Popen[Any], what: str, log: Path) -> None:
    deadline = time.monotonic() + STEP_TIMEOUT
    with inside(namespace):
        while True:
            try:
                with socket.create_connection((HOST, port), timeout=1):
                    return
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
                raise RuntimeError(f"{what} did not start on port {port}; its log:\n{tail}")
            time.sleep(0.1)


def start(
    namespace: str, argv: list[str], env: dict[str, str], log: Path, cwd: Path
) -> subprocess.Popen[bytes]:
    """A process inside the namespace; ``ip netns exec`` execs it, so the pid is the program's own."""
    with log.open("wb") as out:
        return subprocess.Popen(  # noqa: S603 - fixed arguments, our own programs
            ["ip", "netns", "exec", namespace, *argv],  # noqa: S607
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen[Any] | None, timeout: float = 10) -> None:
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


# --- CPU from /proc -------------------------------------------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
                tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def cpu_seconds(pid: int) -> float:
    """User + system CPU of the process and its descendants (every thread), from /proc/<pid>/stat."""
    tree = _children()
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = Path(f"/proc/{current}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        todo.extend(tree.get(current, []))
    return total


# --- The peers of each call -----------------------------------------------------------------------------------------


class CallPeers:
    """One bench/media_peers.py process (one call's three browsers), one JSON line per answer."""

    def __init__(
        self, namespace: str, env: dict[str, str], call: dict[str, Any], port: int, log: Path, *, warm: bool
    ) -> None:
        self.call = call
        self.log = log.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 - fixed arguments, our own programs
            ["ip", "netns", "exec", namespace, PYTHON, str(ROOT / "bench" / "media_peers.py")],  # noqa: S607
            env=env,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            start_new_session=True,
        )
        self.replies: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.send(
            json.dumps(
                {
                    "url": f"ws://{HOST}:{port}/ws/calls/{call['booking']}/",
                    "origin": f"http://{HOST}:{port}",
                    "participants": call["participants"],
                    "warm": warm,
                }
            )
        )

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.replies.put(line)

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def reply(self, timeout: float) -> dict[str, Any]:
        try:
            return dict(json.loads(self.replies.get(timeout=timeout)))
        except queue.Empty:
            raise RuntimeError(
                f"the peers of call {self.call['call']} did not answer within {timeout:.0f} s"
            ) from None

    def snapshot(self) -> dict[str, Any]:
        self.send("snapshot")
        return self.reply(STEP_TIMEOUT)

    def quit(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.send("quit")
        with contextlib.suppress(RuntimeError):
            self.reply(10)
        stop(self.process, timeout=5)
        self.log.close()


# --- The figures ----------------------------------------------------------------------------------------------------


@dataclass
class Figures:
    calls: int
    frames_ratio: float
    monitor_audio_packets: int
    monitor_audio_m_lines: int
    monitor_wire_packets: int
    monitor_unrouted_packets: int
    party_audio_packets: int
    join_ms: list[float]
    janus_cpu_pct: float
    kinship_cpu_pct: float
    watchdog_cpu_pct: float
    window: float
    sent: int
    received: int

    @property
    def send_fps(self) -> float:
        """Video frames each party sent per second in the window (the synthetic camera runs at 30): far less
        means the media stopped (a hung-up session stops the sending and the receiving alike, which the ratio
        alone would not show)."""
        return self.sent / 2 / (2 * self.calls) / self.window if self.window else 0.0

    @property
    def join_p50_ms(self) -> float:
        return statistics.median(self.join_ms) if self.join_ms else float("nan")

    @property
    def control_plane_cpu_ratio(self) -> float:
        control = self.kinship_cpu_pct + self.watchdog_cpu_pct
        return control / self.janus_cpu_pct if self.janus_cpu_pct > 0 else float("inf")


def frames_in(before: dict[str, Any], after: dict[str, Any]) -> tuple[int, int]:
    """(frames the parties sent times the subscribers each should reach, video frames decoded) in the window."""
    parties = [
        name for name, item in after.items() if isinstance(item, dict) and item.get("role") != "monitor"
    ]
    people = [name for name, item in after.items() if isinstance(item, dict) and "role" in item]
    sent = sum(after[p]["sent_video"] - before[p]["sent_video"] for p in parties)
    # Each party's video reaches the other party and the monitor.
    expected = sent * 2
    received = sum(
        after[p]["received"].get("video", 0) - before[p]["received"].get("video", 0) for p in people
    )
    return expected, received


def measure(
    calls: list[CallPeers], janus: int, kinship: int, watchdog: int | None, seconds: float, joins: list[float]
) -> Figures:
    before = [peers.snapshot() for peers in calls]
    cpu_before = (cpu_seconds(janus), cpu_seconds(kinship), cpu_seconds(watchdog) if watchdog else 0.0)
    started = time.monotonic()
    time.sleep(seconds)
    cpu_after = (cpu_seconds(janus), cpu_seconds(kinship), cpu_seconds(watchdog) if watchdog else 0.0)
    window = time.monotonic() - started
    after = [peers.snapshot() for peers in calls]
    expected = received = monitor_audio = audio_lines = monitor_wire = monitor_unrouted = party_audio = 0
    for first, last in zip(before, after, strict=True):
        sent_k, received_k = frames_in(first, last)
        expected += sent_k
        received += received_k
        for item in last.values():
            if isinstance(item, dict) and item.get("role") == "monitor":
                monitor_audio += (
                    int(item["packets"].get("audio", 0))
                    + int(item["packets"].get("wire_audio_payload", 0))
                    + int(item["received"].get("audio", 0))
                )
                monitor_wire += int(item["packets"].get("wire", 0))
                monitor_unrouted += int(item["packets"].get("wire_unrouted", 0))
                audio_lines += int(item["audio_m_lines"])
                if item["audio_m_lines"]:
                    print(
                        f"A monitor was offered audio: its offers' m-lines {item['offers']}", file=sys.stderr
                    )
            elif isinstance(item, dict) and "role" in item:
                # The control: the same wire counter does see the audio the parties receive.
                party_audio += int(item["packets"].get("wire_audio_payload", 0))
    pct = [(b - a) / window * 100 for a, b in zip(cpu_before, cpu_after, strict=True)]
    return Figures(
        calls=len(calls),
        frames_ratio=received / expected if expected else 0.0,
        monitor_audio_packets=monitor_audio,
        monitor_audio_m_lines=audio_lines,
        monitor_wire_packets=monitor_wire,
        monitor_unrouted_packets=monitor_unrouted,
        party_audio_packets=party_audio,
        join_ms=joins,
        janus_cpu_pct=pct[0],
        kinship_cpu_pct=pct[1],
        watchdog_cpu_pct=pct[2],
        window=window,
        sent=expected,
        received=received,
    )


# --- The run --------------------------------------------------------------------------------------------------------


def django_env(folder: Path, admin_secret: str, admin_key: str) -> dict[str, str]:
    env = server_env(f"sqlite:///{folder / 'kinship_media_bench.sqlite3'}")
    env.pop("KINSHIP_BENCH_CONCURRENCY", None)
    env |= {
        "KINSHIP_VAR_DIR": str(folder / "var"),
        "JANUS_NODES": JANUS_API,
        "JANUS_ADMIN_URLS": JANUS_ADMIN,
        "JANUS_ADMIN_SECRET": admin_secret,
        "JANUS_ADMIN_KEY": admin_key,
        "JANUS_RECORDINGS_DIR": str(folder / "recordings"),
        "JANUS_REQUEST_TIMEOUT_SECONDS": "10",
        "REDIS_URL": "",
    }
    return env


def in_django(namespace: str, env: dict[str, str], code: str, timeout: float = 300) -> Any:
    """Runs ``code`` (which prints one JSON line last) in a child process with Django set up, in the namespace."""
    script = f"import json, django\ndjango.setup()\n{code}"
    done = subprocess.run(  # noqa: S603 - our own interpreter and scripts
        ["ip", "netns", "exec", namespace, PYTHON, "-c", script],  # noqa: S607
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"A Django step failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(args: argparse.Namespace, namespace: str, folder: Path) -> Figures:
    admin_secret, admin_key = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    env = django_env(folder, admin_secret, admin_key)
    processes: list[subprocess.Popen[bytes]] = []
    peers: list[CallPeers] = []
    try:
        print("Migrating a throwaway SQLite database ...", flush=True)
        subprocess.run(  # noqa: S603 - our own interpreter and scripts
            [PYTHON, "manage.py", "migrate", "--no-input", "-v", "0"],
            env=env,
            cwd=ROOT,
            check=True,
            timeout=600,
        )
        subprocess.run(  # noqa: S603 - our own interpreter and scripts
            [PYTHON, "manage.py", "janus_config", "--out", str(folder / "janus")],
            env=env,
            cwd=ROOT,
            check=True,
            timeout=120,
            capture_output=True,
        )
        (folder / "janus-work").mkdir()
        janus = start(
            namespace,
            ["janus", "-F", str(folder / "janus"), "-o", "--log-stdout"],
            env,
            folder / "janus.log",
            folder / "janus-work",
        )
        processes.append(janus)
        wait_for_port(namespace, 8088, janus, "Janus", folder / "janus.log")
        watchdog = None
        if args.watchdog:
            # Started now, so that its start-up (imports, Django) is over before the measured window.
            watchdog = start(
                namespace,
                [PYTHON, "manage.py", "media_watch", "--every", "2"],
                env,
                folder / "watchdog.log",
                ROOT,
            )
            processes.append(watchdog)
        print(
            f"Janus (pid {janus.pid}) in namespace {namespace}; seeding {args.calls} live calls ...",
            flush=True,
        )
        seeded = in_django(
            namespace,
            env,
            f"from bench.media_seed import seed\nprint(json.dumps(seed(calls={args.calls})))",
        )
        server = start(
            namespace,
            [
                str(ROOT / ".venv" / "bin" / "uvicorn"),
                args.app,
                "--host",
                HOST,
                "--port",
                str(PORT),
                "--lifespan",
                "off",
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            env,
            folder / "server.log",
            ROOT,
        )
        processes.append(server)
        wait_for_port(namespace, PORT, server, "uvicorn", folder / "server.log")
        print(f"Kinship (uvicorn pid {server.pid}) on ws://{HOST}:{PORT}; the peers join ...", flush=True)
        peers = [
            CallPeers(namespace, env, call, PORT, folder / f"peers-{index}.log", warm=args.warm)
            for index, call in enumerate(seeded["calls"])
        ]
        joins: list[float] = []
        for call_peers in peers:
            ready = call_peers.reply(READY_TIMEOUT)
            if not ready.get("ready"):
                raise RuntimeError(
                    f"call {call_peers.call['call']} did not come up: {json.dumps(ready)[:3000]}"
                )
            joins += [float(ms) for ms in ready["join_ms"].values()]
            print(f"  call {call_peers.call['call']}: join to first remote frame (ms) {ready['join_ms']}")
            if args.timeline:
                for name, steps in ready["timeline"].items():
                    print(f"    {name}: " + ", ".join(f"{what} {ms:.0f}" for what, ms in steps))
        time.sleep(args.settle)
        print(f"Measuring for {args.seconds} s ...", flush=True)
        return measure(peers, janus.pid, server.pid, watchdog.pid if watchdog else None, args.seconds, joins)
    finally:
        for call_peers in peers:
            call_peers.quit()
        for process in reversed(processes):
            stop(process)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=3, help="concurrent calls (default 3)")
    parser.add_argument("--seconds", type=float, default=20, help="the measured window (default 20)")
    parser.add_argument(
        "--settle", type=float, default=2, help="seconds between set-up and measuring (default 2)"
    )
    parser.add_argument(
        "--watchdog",
        action="store_true",
        help="also run manage.py media_watch and count its CPU as Kinship's",
    )
    parser.add_argument(
        "--warm",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="open and close each participant's socket once before joining, so that joins do not measure the "
        "server's first imports (default on)",
    )
    parser.add_argument(
        "--app",
        default="config.asgi:application",
        help="the ASGI application uvicorn serves (default config.asgi:application; another module may wrap it "
        "to trace where a join's time goes)",
    )
    parser.add_argument("--timeline", action="store_true", help="print where each join's time went")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, database)")
    args = parser.parse_args()
    if not 1 <= args.calls <= 20 or not 1 <= args.seconds <= 600:
        raise SystemExit("Use 1-20 calls and 1-600 seconds.")
    try:
        namespace = make_namespace()
    except Unavailable as problem:
        print(f"bench-media cannot run here: {problem}", file=sys.stderr)
        return 3
    folder = Path(tempfile.mkdtemp(prefix="kinship-media-bench-"))
    try:
        figures = run(args, namespace, folder)
    except (RuntimeError, subprocess.SubprocessError) as problem:
        print(f"bench-media failed: {problem}", file=sys.stderr)
        print(f"Logs in {folder}" if args.keep else "(run with --keep to keep the logs)", file=sys.stderr)
        return 2
    finally:
        _run("ip", "netns", "delete", namespace)
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    print(
        f"window {figures.window:.1f} s: video frames {figures.received} decoded of {figures.sent} sent to "
        f"subscribers ({figures.send_fps:.1f} frames/s per party); monitors: offers with an audio m-line "
        f"{figures.monitor_audio_m_lines}, RTP packets on the wire {figures.monitor_wire_packets} (of which "
        f"unrouted {figures.monitor_unrouted_packets}); the parties' audio packets on the wire (the counter's "
        f"control) {figures.party_audio_packets}"
    )
    print(
        f"CPU (% of one core): Janus {figures.janus_cpu_pct:.1f}, Kinship web {figures.kinship_cpu_pct:.2f}"
        + (f", watchdog {figures.watchdog_cpu_pct:.2f}" if args.watchdog else "")
        + f"; joins (ms) {sorted(round(ms) for ms in figures.join_ms)}"
    )
    if args.keep:
        print(f"Logs in {folder}")
    print(
        f"calls={figures.calls} frames_ratio={figures.frames_ratio:.3f} "
        f"monitor_audio_packets={figures.monitor_audio_packets} join_p50_ms={figures.join_p50_ms:.0f} "
        f"janus_cpu_pct_per_call={figures.janus_cpu_pct / figures.calls:.2f} "
        f"control_plane_cpu_ratio={figures.control_plane_cpu_ratio:.3f}"
    )
    if figures.monitor_audio_packets or figures.monitor_audio_m_lines:
        return 1
    if figures.send_fps < MIN_SEND_FPS:
        print(
            f"The media stopped: the parties sent {figures.send_fps:.1f} frames/s, not ~30.", file=sys.stderr
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
