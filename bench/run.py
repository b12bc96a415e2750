"""Run every benchmark and write docs/BENCHMARKS.md (and bench/results.json).

    python bench/run.py               the full set (about 10 minutes on 2 cores)
    python bench/run.py --quick       smaller counts, one repetition (a smoke run)
    python bench/run.py --only fanout,files
    python bench/run.py --only soak         the 60 s mixed-attack soak (bench/soak.py)

Every load is on 127.0.0.1, bounded in count and time; every process started is stopped.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable, Dict, List

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bench import loadgen, scenarios  # noqa: E402
from bench.servers import AsyncioBaseline, MiniIrcd, NgIrcd, OurServer, PingpongReference, versions  # noqa: E402

# bench/pingpong_reference.py's modes, as the ping-pong table names them.
REFERENCE_MODES = [("writer", "reference: stored on a writer thread (this shape's floor)"),
                   ("loop", "reference: stored on the loop thread, no hand-off"),
                   ("memory", "reference: not stored")]


def median_run(runs: List[Dict[str, Any]], key: str) -> Dict[str, Any]:
    ordered = sorted(runs, key=lambda r: r.get(key, 0))
    return ordered[len(ordered) // 2]


class Bench:
    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.reps = 1 if quick else 3
        self.tmp = tempfile.mkdtemp(prefix="chatroom-bench-")
        self.results: Dict[str, Any] = {}
        self.notes: List[str] = []

    def ours(self, *extra: str) -> OurServer:
        return OurServer(os.path.join(self.tmp, "ours%d" % time.time_ns()), "--sms", "off",
                         *extra)

    def with_server(self, make: Callable[[], Any], fn: Callable[[Any], Any]) -> Any:
        server = make()
        try:
            return fn(server)
        finally:
            server.stop()

    # -- chat -----------------------------------------------------------------------------

    def fanout(self) -> None:
        per_sender = 300 if self.quick else 3000
        out = {}

        def ours(s: OurServer) -> List[Dict[str, Any]]:
            d = loadgen.Ours(s.ports["auth"], s.ports["chat"])
            return [loadgen.fanout(d, s, 100, 10, per_sender, 50, tag=str(i))
                    for i in range(self.reps)]
        out["chatroom"] = median_run(self.with_server(self.ours, ours), "deliveries_per_s")
        if MiniIrcd.available():
            out["miniircd"] = median_run(self.with_server(MiniIrcd, lambda s: [
                loadgen.fanout(loadgen.Irc("miniircd", s.port), s, 100, 10, per_sender, 50,
                               tag=str(i)) for i in range(self.reps)]), "deliveries_per_s")
        # ngIRCd is left out here: its per-client flood penalty paces every client's
        # registration and messages, so this run would measure its flood control (the
        # report says so); it is compared where its penalty does not decide the figure.
        self.results["fanout_100_10"] = out

        def big(s: OurServer) -> Dict[str, Any]:
            d = loadgen.Ours(s.ports["auth"], s.ports["chat"])
            return loadgen.fanout(d, s, 1000, 10, 50 if self.quick else 300, 50, timeout_s=120)
        self.results["fanout_1000_10"] = {"chatroom": self.with_server(self.ours, big)}

    def fanout_rooms(self) -> None:
        """Issue #17: the same 100 clients and 10 senders (window 50), as 10 rooms of 10
        (one sender per room); also run by `--only fanout`."""
        per_sender = 300 if self.quick else 3000

        def ours(s: OurServer) -> List[Dict[str, Any]]:
            d = loadgen.Ours(s.ports["auth"], s.ports["chat"])
            return [loadgen.fanout(d, s, 100, 10, per_sender, 50, tag="rm%d" % i, rooms=10)
                    for i in range(self.reps)]
        self.results["fanout_rooms_10x10"] = {
            "chatroom": median_run(self.with_server(self.ours, ours), "deliveries_per_s")}

    def fanout_flood(self) -> None:
        """Issue 22: the second load pattern (bench/flood.py): 10 senders with no window, one
        message per send(), 100 members reading whatever arrives; ours and miniircd
        alternated run by run. Medians of each figure; every message of ours checked stored."""
        import statistics

        from bench import flood
        per_sender = 300 if self.quick else 3000
        ours = self.ours()
        mini = MiniIrcd() if MiniIrcd.available() else None
        try:
            runs = flood.compare(ours, mini, self.reps, per_sender,
                                 lambda s: loadgen.Ours(s.ports["auth"], s.ports["chat"]),
                                 lambda s: loadgen.Irc("miniircd", s.port))
        finally:
            ours.stop()
            if mini is not None:
                mini.stop()
        out: Dict[str, Any] = {}
        for name, mine in runs.items():
            if not mine:
                continue
            row = dict(median_run(mine, "cpu_us_per_delivery"))
            row["deliveries_per_s"] = statistics.median(r["deliveries_per_s"] for r in mine)
            row["lost"] = max(r["lost"] for r in mine)
            row["runs"] = [[round(r["deliveries_per_s"]), round(r["cpu_us_per_delivery"], 3)]
                           for r in mine]
            if "stored" in mine[0]:
                row["all_stored"] = all(r["stored"] == r["messages"] for r in mine)
            out[name] = row
        self.results["fanout_flood"] = out

    def pingpong(self) -> None:
        count = 300 if self.quick else 2000
        out = {"chatroom": median_run(self.with_server(self.ours, lambda s: [
            loadgen.pingpong(loadgen.Ours(s.ports["auth"], s.ports["chat"]), s, count, str(i))
            for i in range(self.reps)]), "p50_ms")}
        if MiniIrcd.available():
            out["miniircd"] = median_run(self.with_server(MiniIrcd, lambda s: [
                loadgen.pingpong(loadgen.Irc("miniircd", s.port), s, count, str(i))
                for i in range(self.reps)]), "p50_ms")
        for mode, label in REFERENCE_MODES:  # the floors (bench/pingpong_reference.py)
            out[label] = median_run(self.with_server(
                lambda: PingpongReference(os.path.join(self.tmp, "ref-" + mode), mode),
                lambda s: [loadgen.pingpong(loadgen.Ours(s.port, s.port), s, count, str(i))
                           for i in range(self.reps)]), "p50_ms")
        if NgIrcd.available():
            out["ngircd"] = self.with_server(lambda: NgIrcd(os.path.join(self.tmp, "ngp")),
                                             lambda s: loadgen.pingpong(
                                                 loadgen.Irc("ngircd", s.port), s, 200))
        self.results["pingpong"] = out

    def idle(self) -> None:
        counts = [1000] if self.quick else [1000, 5000, 10000]
        out: Dict[str, Any] = {}
        for count in counts:
            out["chatroom %d" % count] = self.with_server(self.ours, lambda s: loadgen.idle(
                loadgen.Ours(s.ports["auth"], s.ports["chat"]), s, count, str(count)))
        if MiniIrcd.available():
            out["miniircd 1000"] = self.with_server(MiniIrcd, lambda s: loadgen.idle(
                loadgen.Irc("miniircd", s.port), s, 1000))
        if NgIrcd.available():
            for count in counts[:2]:
                out["ngircd %d" % count] = self.with_server(
                    lambda: NgIrcd(os.path.join(self.tmp, "ngi%d" % count)),
                    lambda s: loadgen.idle(loadgen.Irc("ngircd", s.port), s, count,
                                           timeout_s=30 if self.quick else 90))
        self.results["idle"] = out

    def handshakes(self) -> None:
        seconds = 1.0 if self.quick else 3.0
        out: Dict[str, Any] = {}
        for k in (1, 4, 50):
            # Issue 22: ours and miniircd alternate, rep by rep; the median of each is kept.
            runs: Dict[str, List[Dict[str, Any]]] = {"chatroom": [], "miniircd": []}
            for _ in range(self.reps):
                runs["chatroom"].append(self.with_server(self.ours, lambda s: loadgen.handshakes(
                    loadgen.Ours(s.ports["auth"], s.ports["chat"]), s, k, seconds)))
                if MiniIrcd.available():
                    runs["miniircd"].append(self.with_server(
                        MiniIrcd, lambda s: loadgen.handshakes(loadgen.Irc("miniircd", s.port),
                                                               s, k, seconds)))
            for name, mine in runs.items():
                if mine:
                    out["%s %d" % (name, k)] = dict(median_run(mine, "per_s"),
                                                    runs=[round(r["per_s"]) for r in mine])
            if NgIrcd.available():
                out["ngircd %d" % k] = self.with_server(
                    lambda: NgIrcd(os.path.join(self.tmp, "ngh%d" % k)),
                    lambda s: loadgen.handshakes(loadgen.Irc("ngircd", s.port), s, k, seconds))
        self.results["handshakes"] = out
        self.results["logins"] = {"chatroom %d" % k: self.with_server(
            self.ours, lambda s: scenarios.logins(loadgen.Ours(s.ports["auth"],
                                                               s.ports["chat"]), k, seconds))
            for k in (1, 4)}

    def pings(self) -> None:
        seconds = 1.0 if self.quick else 3.0
        out: Dict[str, Any] = {}
        for conns in (1, 100):
            def ours(s: OurServer) -> List[Dict[str, Any]]:
                token = loadgen.Ours(s.ports["auth"], s.ports["chat"]).user("pinger")
                return [scenarios.pipelined_pings(s.ports["chat"], conns, seconds,
                                                  auth_token=token) for _ in range(self.reps)]
            out["chatroom %d" % conns] = median_run(self.with_server(self.ours, ours),
                                                    "round_trips_per_s")
            out["asyncio %d" % conns] = median_run(self.with_server(AsyncioBaseline, lambda s: [
                scenarios.pipelined_pings(s.port, conns, seconds) for _ in range(self.reps)]),
                "round_trips_per_s")
        self.results["pings"] = out

    def stall(self) -> None:
        gateway = scenarios.HangingGateway()
        try:
            # Register with SMS off first, then restart the same data with the hung gateway.
            data = os.path.join(self.tmp, "stall")
            first = OurServer(data, "--sms", "off")
            driver = loadgen.Ours(first.ports["auth"], first.ports["chat"])
            for name in ("stall_a", "stall_b", "stall_login"):
                driver.user(name)
            first.stop()
            server = OurServer(data, "--sms", "netease", "--sms-url", gateway.url,
                               "--sms-app-key", "k", "--sms-app-secret", "s")
            try:
                driver.auth_port, driver.chat_port = server.ports["auth"], server.ports["chat"]
                driver.tokens.clear()
                self.results["stall"] = {"chatroom": self._stall_with_logins(driver)}
            finally:
                server.stop()
        finally:
            gateway.close()

    def _stall_with_logins(self, driver: loadgen.Ours) -> Dict[str, Any]:
        import socket

        from bench.loadgen import HOST, request
        for name in ("stall_a", "stall_b", "stall_login"):
            with socket.create_connection((HOST, driver.auth_port)) as s:
                reply = request(s, bytearray(), "login", login=name,
                                password="bench password 1")
                driver.tokens[name] = reply["token"]
        return scenarios.stall(driver, 100 if self.quick else 300)

    # -- files and storage ----------------------------------------------------------------

    def files(self) -> None:
        size = (64 if self.quick else 1024) * 1024 * 1024
        # Issue 22: the upload's reference is the simplest program doing its work (receive,
        # SHA-256, write, fsync: bench/upload_reference.py) on the same file system; the
        # three measurements alternate, rep by rep, so they share the machine's noise.
        from bench.upload_reference import reference
        pairs: List[Dict[str, Any]] = []
        refs: List[Dict[str, Any]] = []

        def run(s: OurServer) -> List[Dict[str, Any]]:
            d = loadgen.Ours(s.ports["auth"], s.ports["chat"])
            out = []
            for _ in range(self.reps):
                pairs.append(scenarios.plain_pair(size))
                refs.append(reference(size, self.tmp))
                out.append(scenarios.upload_download(d, s, size))
            return out
        ours = self.with_server(self.ours, run)
        plain = median_run(pairs, "mb_per_s")
        ref = median_run(refs, "mb_per_s")
        up = median_run(ours, "upload_mb_per_s")
        down = median_run(ours, "download_mb_per_s")
        self.results["files"] = {
            "plain_pair_mb_per_s": plain["mb_per_s"], "bytes": size,
            "reference_mb_per_s": ref["mb_per_s"],
            "upload_mb_per_s": up["upload_mb_per_s"],
            "download_mb_per_s": down["download_mb_per_s"],
            "upload_ratio": up["upload_mb_per_s"] / plain["mb_per_s"],
            "upload_reference_ratio": up["upload_mb_per_s"] / ref["mb_per_s"],
            "download_ratio": down["download_mb_per_s"] / plain["mb_per_s"],
            "runs": [[round(p["mb_per_s"]), round(f["mb_per_s"]), round(o["upload_mb_per_s"]),
                      round(o["download_mb_per_s"])] for p, f, o in zip(pairs, refs, ours)],
            "rss_growth_mib": max(r["rss_growth_mib"] for r in ours)}

    def storage(self) -> None:
        count = 2000 if self.quick else 20000
        out = {"sqlite": scenarios.group_commit(
            "sqlite:///" + os.path.join(self.tmp, "gc.db"), count)}
        if shutil.which("mariadbd") or os.path.exists("/usr/sbin/mariadbd"):
            try:
                from tests.procs import MariaDB
                db = MariaDB(os.path.join(self.tmp, "mariadb"))
                try:
                    out["mysql"] = scenarios.group_commit(db.new_url(), count // 4)
                finally:
                    db.stop()
            except Exception as exc:  # reported, not fatal: the SQLite figure still stands
                self.notes.append("MariaDB group-commit run failed: %s" % exc)
        self.results["group_commit"] = out

    def tls(self) -> None:
        """Fan-out and files with TLS on, beside the same runs without it."""
        from net.tls import make_self_signed
        try:
            cert, key = make_self_signed(os.path.join(self.tmp, "tls"), "localhost")
        except RuntimeError as exc:
            self.notes.append("TLS benchmark skipped: %s" % exc)
            return
        per_sender = 300 if self.quick else 3000
        size = (64 if self.quick else 512) * 1024 * 1024
        out: Dict[str, Any] = {}
        for tls in (False, True):
            extra = ("--tls-cert", cert, "--tls-key", key) if tls else ()
            label = "tls" if tls else "plain"

            def run(s: OurServer) -> Dict[str, Any]:
                d = loadgen.Ours(s.ports["auth"], s.ports["chat"], tls=tls)
                fan = median_run([loadgen.fanout(d, s, 100, 10, per_sender, 50, tag=str(i))
                                  for i in range(self.reps)], "deliveries_per_s")
                files = scenarios.upload_download(d, s, size)
                return {"fanout": fan, "files": files}
            out[label] = self.with_server(lambda: self.ours(*extra), run)
        self.results["tls"] = out

    def gui(self) -> None:
        if not shutil.which("Xvfb"):
            self.notes.append("GUI tick benchmark skipped: no Xvfb")
            return
        out = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "gui_tick.py")] +
                             (["--quick"] if self.quick else []),
                             capture_output=True, text=True, timeout=900)
        if out.returncode == 0:
            self.results["gui_tick"] = json.loads(out.stdout.strip().splitlines()[-1])
        else:
            self.notes.append("GUI tick benchmark failed: %s" % out.stderr[-500:])
        out = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "gui_tick.py"),
                              "--inspector"] + (["--quick"] if self.quick else []),
                             capture_output=True, text=True, timeout=900)
        if out.returncode == 0:
            self.results["gui_inspector"] = json.loads(out.stdout.strip().splitlines()[-1])
        else:
            self.notes.append("inspector benchmark failed: %s" % out.stderr[-500:])


    def soak(self) -> None:
        """bench/soak.py twice: honest traffic alone, then under the mixed attack (the peer
        of the attacked run is the same server unattacked)."""
        duration = "15" if self.quick else "60"
        runs = {}
        for label, extra in (("quiet", ["--no-attack"]), ("attacked", [])):
            out = os.path.join(self.tmp, "soak-%s.json" % label)
            done = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "soak.py"),
                                   "--duration", duration, "--out", out] + extra,
                                  capture_output=True, text=True, timeout=900)
            if done.returncode != 0:
                self.notes.append("soak (%s) failed: %s" % (label, done.stderr[-500:]))
                return
            with open(out) as f:
                runs[label] = json.load(f)
        self.results["soak"] = runs


    def cluster(self) -> None:
        """Issue #18: several processes on one database (bench/cluster.py)."""
        from bench import cluster
        self.results["cluster"] = cluster.run_all(self.quick, self.notes)


SECTIONS = ["fanout", "fanout_rooms", "fanout_flood", "pingpong", "idle", "handshakes",
            "pings", "stall", "files",
            "storage",
            "gui", "tls", "soak", "cluster"]


def machine() -> Dict[str, str]:
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f
                          if line.startswith("model name")), "")
    except OSError:
        pass
    return {"cpu": model, "cores": str(os.cpu_count()), "os": platform.platform(),
            "versions": ", ".join(versions()), "date": time.strftime("%Y-%m-%d")}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--only", default="", help="comma-separated: " + ",".join(SECTIONS))
    p.add_argument("--output", default=os.path.join(ROOT, "docs", "BENCHMARKS.md"))
    args = p.parse_args()
    bench = Bench(args.quick)
    wanted = set(args.only.split(","))
    if "fanout" in wanted:
        wanted.add("fanout_rooms")
    chosen = [s for s in SECTIONS if not args.only or s in wanted]
    results_path = os.path.join(ROOT, "bench", "results.json")
    previous = {}
    if args.only and os.path.exists(results_path):
        with open(results_path) as f:
            previous = json.load(f).get("results", {})
    bench.results.update(previous)
    for section in chosen:
        t0 = time.time()
        print("== %s" % section, file=sys.stderr, flush=True)
        getattr(bench, section)()
        print("   %.0f s" % (time.time() - t0), file=sys.stderr, flush=True)
    data = {"machine": machine(), "results": bench.results, "notes": bench.notes,
            "quick": args.quick}
    with open(results_path, "w") as f:
        json.dump(data, f, indent=1)
    from bench.report import write_report
    write_report(data, args.output)
    print("wrote", args.output)
    shutil.rmtree(bench.tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
