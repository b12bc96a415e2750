"""Many server processes on a real multi-master database (docs/PROTOCOL.md §13): a two-node
MariaDB Galera cluster on loopback (tests/galera.py), one chatroom process on each node, one
storage folder. The same exactly-once, in-order delivery as on one database
(tests/test_cluster.py), although each process writes to a different master."""
from __future__ import annotations

import threading

import pytest

from tests.conftest import chat_client, missing, register
from tests.galera import GaleraCluster, missing_tools

pytestmark = pytest.mark.mysql

SENDERS = 10
PER_SENDER = 20
READERS = 6


@pytest.fixture(scope="session")
def galera():
    lacking = missing_tools()
    if lacking:
        missing("a Galera cluster (%s)" % ", ".join(lacking))
    cluster = GaleraCluster()
    print("\n[galera] %s on 127.0.0.1:%s" % (
        cluster.version(), ",".join(str(n.port) for n in cluster.nodes)))
    yield cluster
    cluster.stop()


@pytest.fixture
def on_galera(galera, make_server, tmp_path):
    """start() -> two chatroom servers, one on each Galera node, one database and storage."""
    database = galera.new_database()
    storage = str(tmp_path / "files")

    def start(*args: str):
        return [make_server("--db", galera.url(node, database), "--storage", storage,
                            "--flood-limit", "0", *args) for node in (0, 1)]
    return start


# Two masters take log numbers at once: Galera lets the first to commit win and rolls the
# other back with error 1213 ("deadlock"), which the store runs again (db/store.py _write).
# Without that, about one message in five was refused here (bad_request).
def test_each_node_hears_every_message_once_in_order(on_galera):
    servers = on_galera()
    people = [register(servers[i % 2]) for i in range(SENDERS)]
    # Readers log in on one node and chat on the other: the token crosses the cluster.
    readers = [chat_client(servers[(i + 1) % 2], people[i]) for i in range(READERS)]
    senders = [chat_client(servers[i % 2], person) for i, person in enumerate(people)]
    acked = []
    refused = []
    lock = threading.Lock()

    def send(client, who: int) -> None:
        for i in range(PER_SENDER):
            reply = client.request("say", text="%d-%d" % (who, i))
            with lock:
                if reply.get("status") == "ok":
                    acked.append(reply["msg_id"])
                else:
                    refused.append(reply)
    threads = [threading.Thread(target=send, args=(c, i)) for i, c in enumerate(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not refused, "every say is stored although both masters write at once: %r" % (
        refused[:3],)
    assert len(acked) == SENDERS * PER_SENDER and len(set(acked)) == len(acked)
    for reader in readers + senders:
        got = [reader.next_event("message", 15)["msg_id"] for _ in acked]
        assert got == sorted(acked), "each connection hears every message once, in id order"
    for c in readers + senders:
        c.close()


def test_presence_crosses_the_nodes(on_galera):
    a, b = on_galera()
    ann, bob = register(a), register(b)
    with chat_client(a, ann) as on_a:
        with chat_client(b, bob) as on_b:
            assert on_a.next_event("presence", 15) == {
                "op": "presence", "user": bob["username"], "online": True}
            assert ann["username"] in on_b.auth_reply["online"]
            assert bob["username"] in on_a.request("users")["online"]
            sent = on_b.request("say", text="psst", to=ann["username"])
            assert sent["status"] == "ok", sent
            private = on_a.next_event("message", 15)
            assert (private["msg_id"], private["from"]) == (sent["msg_id"], bob["username"])
        assert on_a.next_event("presence", 15) == {
            "op": "presence", "user": bob["username"], "online": False}
        assert bob["username"] not in on_a.request("users")["online"]
