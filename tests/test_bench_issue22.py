"""Issue 22's benchmark pieces, small and fast: the second fan-out pattern (bench/flood.py),
the upload reference (bench/upload_reference.py), the ping-pong floors
(bench/pingpong_reference.py), the profiling hook and one-in-flight
measurement (bench/profile_pingpong.py), and their sections of the report (bench/report.py).
Real servers on loopback, counts bounded."""
from __future__ import annotations

import hashlib
import os
import sqlite3

import pytest

from bench import flood, loadgen
from bench.profile_pingpong import Hooked, one_in_flight, read_tids
from bench.report import write_report
from bench.run import REFERENCE_MODES
from bench.servers import MiniIrcd, OurServer, PingpongReference
from bench.upload_reference import CHUNK, _block, reference


def test_flood_delivers_and_stores_every_message(tmp_path):
    server = OurServer(str(tmp_path / "ours"), "--sms", "off")
    try:
        driver = loadgen.Ours(server.ports["auth"], server.ports["chat"])
        result = flood.flood(driver, server, clients=12, senders=3, per_sender=40,
                             timeout_s=30, tag="t")
        assert result["lost"] == 0
        assert result["deliveries"] == 12 * 3 * 40  # ours echoes to the sender too
        assert flood.stored(server, "t") == 3 * 40
        assert result["cpu_us_per_delivery"] >= 0
    finally:
        server.stop()


@pytest.mark.skipif(not MiniIrcd.available(), reason="miniircd is not installed")
def test_flood_against_miniircd_counts_no_echo():
    server = MiniIrcd()
    try:
        result = flood.flood(loadgen.Irc("miniircd", server.port), server, clients=8,
                             senders=2, per_sender=30, timeout_s=30, tag="i")
        assert result["lost"] == 0
        assert result["deliveries"] == 8 * 2 * 30 - 2 * 30  # IRC does not echo
    finally:
        server.stop()


def test_upload_reference_receives_hashes_and_syncs(tmp_path):
    size = 8 * CHUNK
    result = reference(size, str(tmp_path))
    expected = hashlib.sha256()
    for _ in range(8):
        expected.update(_block(1))
    assert result["bytes"] == size
    assert result["sha256"] == expected.hexdigest()
    assert result["mb_per_s"] > 0
    assert os.listdir(str(tmp_path)) == []  # its file is gone


@pytest.mark.parametrize("mode", ["loop", "writer", "memory"])
def test_pingpong_reference_serves_our_client_and_stores_each_message(tmp_path, mode):
    server = PingpongReference(str(tmp_path), mode)
    try:
        result = loadgen.pingpong(loadgen.Ours(server.port, server.port), server, 40, "r")
    finally:
        server.stop()
    assert result["messages"] == 40 and result["lost"] == 0
    with sqlite3.connect(str(tmp_path / "ref.db")) as db:
        stored = db.execute("SELECT id, text FROM messages ORDER BY id").fetchall()
    if mode == "memory":
        assert stored == []
    else:  # numbered by the counter row, one transaction each, in order
        assert [row[0] for row in stored] == list(range(1, 41))
        assert all(text.startswith("0:") for _, text in stored)


def test_profiling_hook_names_threads_and_measures_one_in_flight(tmp_path):
    out = tmp_path / "prof"
    out.mkdir()
    server = Hooked(str(tmp_path / "data"), str(out), "tids").server
    try:
        driver = loadgen.Ours(server.ports["auth"], server.ports["chat"])
        a, b = driver.open("ppa"), driver.open("ppb")
        names = set(read_tids(str(out), server.pid).values())
        assert {"MainThread", "message-writer"} <= names
        result = one_in_flight(driver, server, a, b, 50, read_tids(str(out), server.pid))
        a.close()
        b.close()
        assert result["messages"] == 50
        assert result["thread_us_per_message"].get("MainThread", 0) > 0
    finally:
        server.stop()


def test_report_renders_the_issue22_sections(tmp_path):
    flood_row = {"deliveries_per_s": 2.0e6, "lost": 0, "cpu_us_per_delivery": 0.3,
                 "cpu_us_per_message": 30.0, "messages": 30000, "runs": [[2000000, 0.3]]}
    data = {"machine": {"cpu": "x", "cores": "2", "os": "linux", "versions": "Python",
                        "date": "today"},
            "notes": [], "results": {
                "fanout_flood": {"chatroom": dict(flood_row, all_stored=True),
                                 "miniircd": dict(flood_row, cpu_us_per_delivery=0.6)},
                "pingpong": {"chatroom": {"messages": 10, "p50_ms": 0.2, "p99_ms": 0.5,
                                          "max_ms": 1.0, "cpu_us_per_message": 190.0},
                             "miniircd": {"messages": 10, "p50_ms": 0.05, "p99_ms": 0.1,
                                          "max_ms": 0.2, "cpu_us_per_message": 20.0},
                             REFERENCE_MODES[0][1]: {"messages": 10, "p50_ms": 0.16,
                                                     "p99_ms": 0.4, "max_ms": 1.0,
                                                     "cpu_us_per_message": 152.0},
                             REFERENCE_MODES[1][1]: {"messages": 10, "p50_ms": 0.12,
                                                     "p99_ms": 0.3, "max_ms": 1.0,
                                                     "cpu_us_per_message": 110.0}},
                "files": {"bytes": 1 << 30, "plain_pair_mb_per_s": 4000.0,
                          "reference_mb_per_s": 500.0, "upload_mb_per_s": 450.0,
                          "download_mb_per_s": 2600.0, "upload_ratio": 0.11,
                          "upload_reference_ratio": 0.9, "download_ratio": 0.65,
                          "runs": [[4000, 500, 450, 2600]], "rss_growth_mib": 20.0}}}
    path = tmp_path / "BENCH.md"
    write_report(data, str(path))
    text = path.read_text(encoding="utf-8")
    assert "second pattern: senders with no window" in text
    assert "server CPU per delivery 0.50 × miniircd's" in text
    assert "server CPU per message ≤ 60 µs — 190 µs (**missed**)" in text
    assert "the floor is 110 µs a message and 2.4 × miniircd's p50" in text
    assert "cannot go below 152 µs and 3.2 ×. chatroom against that floor: server CPU " \
        "1.25 ×, p50 1.25 ×" in text
    assert "upload ≥ 80 % of the reference — **met**" in text
    assert "Where a ping-pong message's server CPU goes" in text  # bench/profile.md
