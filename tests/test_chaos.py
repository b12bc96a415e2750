"""--chaos (net/chaos.py): the cuts are deterministic and within their bounds; the loop and
the client connection really send in pieces, hold back and cap reads, TLS included; the
option is refused towards other machines; and 100 MiB go up and come back down through it
with their SHA-256 intact. (./test.sh also runs the end-to-end suite again with
CHATROOM_CHAOS set: tests/procs.py, tests/wire.py.)"""
import hashlib
import io
import os
import re
import socket
import subprocess
import sys
import threading
import time

import pytest

from net.chaos import (
    HOLD_MAX_S,
    HOLD_MIN_S,
    PIECE_MAX_BYTES,
    Chaos,
    cut,
    is_loopback,
)
from net.client import ClientConnection, ConnectionState, Direction, chaotic, wait_readable
from net.loop import Loop
from net.service import Service
from tests.conftest import register
from tests.procs import ROOT, wait_until
from tests.wire import WireClient, jframe


def draws(chaos, n=2000):
    return [(chaos.send_bytes(), chaos.recv_bytes(65536), chaos.hold_s()) for _ in range(n)]


# -- the Chaos object --------------------------------------------------------------------

def test_same_seed_same_cuts_and_each_connection_its_own():
    a, b = Chaos(7), Chaos(7)
    first_a, first_b = a.for_connection(), b.for_connection()
    assert draws(first_a) == draws(first_b)
    assert draws(a.for_connection()) == draws(b.for_connection())
    assert draws(Chaos(7).for_connection()) != draws(Chaos(8).for_connection())
    second = Chaos(7)
    second.for_connection()
    assert draws(second.for_connection()) != draws(Chaos(7).for_connection())


def test_pieces_are_one_byte_to_a_few_kib_and_holds_a_few_ms():
    chaos = Chaos(3).for_connection()
    got = draws(chaos, 5000)
    sends = [s for s, _, _ in got]
    reads = [r for _, r, _ in got]
    holds = [h for _, _, h in got if h]
    assert min(sends) == 1 and max(sends) <= PIECE_MAX_BYTES
    assert sum(s <= 5 for s in sends) > 300  # headers get cut inside
    assert min(reads) == 1 and max(reads) <= PIECE_MAX_BYTES
    assert all(HOLD_MIN_S <= h <= HOLD_MAX_S for h in holds)
    assert 400 < len(holds) < 900  # about one write in eight
    assert chaos.holds == len(holds)
    assert Chaos(3).recv_bytes(1) == 1  # never more than the budget


def test_a_tls_write_to_retry_asks_for_the_same_bytes_and_is_not_held():
    chaos = Chaos(5).for_connection()
    chaos.retry_bytes = 1234
    assert [chaos.send_bytes() for _ in range(5)] == [1234] * 5
    assert [chaos.hold_s() for _ in range(50)] == [0.0] * 50


@pytest.mark.parametrize("limit", range(0, 12))
def test_cut_takes_exactly_the_first_bytes_of_the_chunks(limit):
    chunks = [b"abc", memoryview(b"defg"), b"h", b"ijk"]
    pieces = cut(chunks, limit)
    assert b"".join(bytes(p) for p in pieces) == b"abcdefghijk"[:limit]
    assert cut(chunks, limit) == pieces  # the same again: a TLS retry gets the same bytes


@pytest.mark.parametrize("host,local", [("127.0.0.1", True), ("127.3.4.5", True),
                                        ("::1", True), ("[::1]", True), ("localhost", True),
                                        ("0.0.0.0", False), ("192.168.1.10", False),
                                        ("::", False), ("lab-server", False)])
def test_is_loopback(host, local):
    assert is_loopback(host) is local


# -- the option --------------------------------------------------------------------------

@pytest.mark.parametrize("command", [["server_main.py", "--data-dir", "{tmp}"],
                                     ["chatroom.py", "cli"],
                                     ["client_main.py"]])
def test_chaos_towards_another_machine_is_refused_with_a_reason(command, tmp_path):
    argv = [sys.executable] + [os.path.join(ROOT, command[0])] + \
        [a.format(tmp=tmp_path) for a in command[1:]] + ["--host", "0.0.0.0", "--chaos", "3"]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=30, cwd=str(tmp_path),
                         stdin=subprocess.DEVNULL)
    assert out.returncode == 2
    assert "--chaos 3 is refused with --host 0.0.0.0" in out.stderr
    assert "--chaos-anywhere" in out.stderr


def test_chaos_anywhere_is_accepted_and_a_client_checks_the_address_it_resolves():
    import options
    parser = options.build_parser()
    args = parser.parse_args(["--host", "0.0.0.0", "--chaos", "3", "--chaos-anywhere"])
    chaos = options.chaos_from_args(parser, args, args.host)
    assert chaos.seed == 3 and chaos.anywhere
    args = parser.parse_args([])
    assert options.chaos_from_args(parser, args, args.host) is None
    # The GUI's login window may name any server: the connection itself says no, at once.
    conn = ClientConnection("192.0.2.1", 9, chaos=Chaos(3).for_connection())
    assert conn.state is ConnectionState.CLOSED and conn.sock is None
    assert "--chaos" in conn.error and "--chaos-anywhere" in conn.error


# -- the loop and the client connection --------------------------------------------------

def test_server_cuts_its_writes_and_the_frames_still_arrive_whole(make_server):
    srv = make_server("--chaos", "11", "--sms", "off")
    sizes = []
    with socket.create_connection(("127.0.0.1", srv.auth)) as s:
        s.sendall(b"".join(jframe({"op": "hello", "id": i}) for i in range(40)))
        buf = bytearray()
        frames = []
        while len(frames) < 40:
            data = s.recv(1 << 20)
            assert data
            sizes.append(len(data))
            buf += data
            while len(buf) >= 5 and len(buf) >= 5 + int.from_bytes(buf[1:5], "big"):
                end = 5 + int.from_bytes(buf[1:5], "big")
                frames.append(bytes(buf[5:end]))
                del buf[:end]
            time.sleep(0.002)
    assert [b'"id": %d' % i in f or b'"id":%d' % i in f for i, f in enumerate(frames)] == \
        [True] * 40
    # How the pieces were read depends on timing too (pieces sent back to back may wait in our
    # kernel together); how they were cut does not: the server's summary says.
    line = srv.wait_log(r"auth \S+: chaos: sent (\d+) bytes in (\d+) pieces \(held back "
                        r"(\d+) times\), received (\d+) bytes in (\d+) reads")
    sent, pieces, _, received, reads = map(int, line.groups())
    assert sent == sum(sizes) and pieces >= sent // PIECE_MAX_BYTES + 1 and pieces > 1
    assert received == sum(len(jframe({"op": "hello", "id": i})) for i in range(40))
    assert reads >= 1


def test_client_connection_cuts_holds_and_caps_over_plain_and_tls(make_server, tmp_path):
    from net.client import TlsOptions
    from net.tls import client_context, make_self_signed
    cert, key = make_self_signed(str(tmp_path / "tls"))
    _chatter(make_server("--chaos", "5"), None)
    _chatter(make_server("--chaos", "6", "--tls-cert", cert, "--tls-key", key),
             TlsOptions(client_context()))


def _chatter(srv, tls):
    """300 requests of growing size through a chaotic client connection; the observer
    (the frame inspector's hook) sees every frame, split over reads."""
    conn = chaotic(Chaos(9))("127.0.0.1", srv.auth, tls=tls)
    frames = []
    conn.observer = lambda c, direction, kind, body, message, reads: frames.append(
        (direction, 5 + len(body), reads))
    replies = []
    for i in range(300):  # one write call each (where a hold may be drawn)
        conn.request("hello", replies.append, pad="x" * (i * 7))
        conn.poll()
    deadline = time.monotonic() + 20
    while len(replies) < 300 and time.monotonic() < deadline and not conn.closed:
        conn.poll()
        wait_readable([conn], 0.01)
    assert [r["status"] for r in replies] == ["ok"] * 300, conn.error
    chaos = conn.chaos
    assert chaos.pieces_out > chaos.bytes_out // PIECE_MAX_BYTES
    assert chaos.reads_in > chaos.bytes_in // PIECE_MAX_BYTES
    assert chaos.bytes_out == sum(size for d, size, _ in frames if d is Direction.OUT)
    assert chaos.bytes_in == sum(size for d, size, _ in frames if d is Direction.IN)
    assert max(reads for d, _, reads in frames if d is Direction.IN) > 1  # split up
    conn.close()


def test_a_client_holds_its_bytes_back_then_sends_them_merged(monkeypatch):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        chaos = Chaos(4).for_connection()
        conn = ClientConnection("127.0.0.1", listener.getsockname()[1], chaos=chaos)
        peer, _ = listener.accept()
        with peer:
            wait_until(lambda: conn.poll() == [] and conn.state is ConnectionState.OPEN)
            holds = iter([0.05])
            monkeypatch.setattr(chaos, "hold_s", lambda: next(holds, 0.0))
            conn.request("hello")
            conn.poll()  # held: nothing goes
            conn.request("users")  # queued behind it, and will leave with it
            conn.poll()
            assert conn.outbox_bytes > 0 and not conn.wants_write
            t0 = time.monotonic()
            wait_readable([conn], 1.0)  # sleeps until the hold ends, not the whole second
            assert 0.02 < time.monotonic() - t0 < 0.5
            assert conn.wants_write
            peer.settimeout(5)
            got = b""
            while conn.outbox_bytes:
                conn.poll()
            while b"users" not in got:
                got += peer.recv(65536)
            assert got.startswith(b"J") and b"hello" in got
            assert chaos.pieces_out >= 1 and chaos.bytes_out == len(got)
        conn.close()


class Replier(Service):
    name = "echo"
    max_json_bytes = 65536

    def on_request(self, peer, request):
        peer.reply(request)


def test_a_held_write_waits_on_a_timer_not_a_busy_loop():
    """While the loop holds a peer's bytes back it does not ask for write readiness (which
    would wake it for nothing until the hold ends): a 0.3 s hold costs a few turns."""
    chaos = Chaos(1)
    held = chaos.for_connection()
    holds = iter([0.3])
    held.hold_s = lambda: next(holds, 0.0)
    chaos.for_connection = lambda: held
    loop = Loop(chaos=chaos)
    _, port = loop.listen("127.0.0.1", 0, Replier())
    turns = []
    select = loop.selector.select
    loop.selector.select = lambda timeout=None: turns.append(timeout) or select(timeout)
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    try:
        with WireClient(port, chaos_seed=None) as c:
            t0 = time.monotonic()
            before = len(turns)
            assert c.request("ping")["status"] == "ok"
            assert time.monotonic() - t0 >= 0.3
            # a busy loop would take tens of thousands of turns; a few dozen is timers and noise
            assert len(turns) - before < 100, len(turns) - before
            assert held.holds == 0  # the hold was ours (the stub), not one drawn at random
    finally:
        loop.stop()
        thread.join(10)


# -- 100 MiB both ways -------------------------------------------------------------------

def test_hundred_mib_up_and_down_under_chaos_keep_their_sha256(make_server, tmp_path):
    """The terminal client with --chaos against a server with --chaos: every write on both
    ends cut into pieces of 1 byte to 4 KiB, some held back, every read capped."""
    from ui.cli import Cli
    srv = make_server("--chaos", "21")
    user = register(srv)
    folder = tmp_path / "chaos100"
    folder.mkdir()
    digest = hashlib.sha256()
    block = os.urandom(1 << 20)
    with open(str(folder / "blob.bin"), "wb") as f:
        for i in range(100):
            chunk = block[i:] + block[:i]  # no two MiB alike
            digest.update(chunk)
            f.write(chunk)
    script = ["/login " + user["username"], user["password"], "/upload %s" % folder,
              "/download chaos100/ %s" % (tmp_path / "got"), "/quit"]
    out = io.StringIO()
    cli = Cli("127.0.0.1", srv.auth, "en", stdin=io.StringIO("\n".join(script) + "\n"),
              out=out, chaos=Chaos(22))
    t0 = time.monotonic()
    assert cli.run() == 0, out.getvalue()
    elapsed_s = time.monotonic() - t0
    got = hashlib.sha256()
    with open(str(tmp_path / "got" / "chaos100" / "blob.bin"), "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            got.update(chunk)
    assert got.hexdigest() == digest.hexdigest()
    # Both directions went through the server's chaos, in pieces (its log, as connections
    # close), and through the client's.
    size = 100 << 20

    def file_totals():
        found = re.findall(r"file \S+: chaos: sent (\d+) bytes in (\d+) pieces \(held back "
                           r"\d+ times\), received (\d+) bytes in (\d+) reads", srv.log())
        return [sum(int(f[i]) for f in found) for i in range(4)]
    wait_until(lambda: file_totals()[0] > size and file_totals()[2] > size, 10,
               what="the file connections' chaos summaries")
    sent, pieces, received, reads = file_totals()
    assert pieces > size // PIECE_MAX_BYTES and reads > size // PIECE_MAX_BYTES
    print("100 MiB up and down under chaos in %.1f s: %r" % (elapsed_s, file_totals()))
