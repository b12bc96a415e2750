"""Lab 4 (docs/LABS.md): a client that stops reading, and what the server does about it.

    python docs/labs/slow_reader.py [PORT]

PORT is the auth port (9999 by default) of a server started with --sms off --flood-limit 0;
watch that server's log while it runs. Two users of its own: a talker, and a reader that
stops reading twice: once while it has asked for more than it reads, then for good. Only
socket, struct and json.
"""
import json
import os
import socket
import struct
import sys
import time

port = int(sys.argv[1]) if len(sys.argv) > 1 else 9999
TEXT = "x" * 4000  # the longest chat message (docs/PROTOCOL.md §5)


class Client:
    def __init__(self, port, rcvbuf=None):
        self.sock = socket.socket()
        if rcvbuf:  # a small receive buffer: the kernel holds little for us
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.connect(("127.0.0.1", port))
        self.buf = bytearray()
        self.received = 0  # bytes

    def send(self, message):
        body = json.dumps(message).encode("utf-8")
        self.sock.sendall(struct.pack(">BI", 0x4A, len(body)) + body)

    def frame(self):
        while len(self.buf) < 5 or len(self.buf) < 5 + struct.unpack(">BI", self.buf[:5])[1]:
            data = self.sock.recv(1 << 20)
            if not data:
                raise ConnectionError("closed by the server")
            self.received += len(data)
            self.buf += data
        length = struct.unpack(">BI", self.buf[:5])[1]
        message = json.loads(self.buf[5:5 + length])
        del self.buf[:5 + length]
        return message

    def request(self, **message):
        self.send(message)
        while True:
            reply = self.frame()
            if reply.get("id") == message["id"] and "status" in reply:
                return reply


def user(name):
    """Register (the server runs --sms off, so any code will do) and log in: a token."""
    auth = Client(port)
    auth.request(op="register", id=1, username=name, password="lab password 1",
                 phone="139%08d" % (int.from_bytes(os.urandom(4), "big") % 10 ** 8), code="")
    login = auth.request(op="login", id=2, login=name, password="lab password 1")
    auth.sock.close()
    return login["token"], login["services"]["chat"]


def say(talker, count):
    """Say `count` messages, 100 at a time, reading the replies and the events they bring."""
    for start in range(0, count, 100):
        for i in range(start, start + 100):
            talker.send({"op": "say", "id": i, "text": TEXT})
        seen = 0
        while seen < 200:  # 100 replies and the 100 events of our own messages
            talker.frame()
            seen += 1


tag = os.urandom(3).hex()
talker_token, chat_port = user("talker_" + tag)
reader_token, _ = user("reader_" + tag)
talker = Client(chat_port)
talker.request(op="auth", id="a", token=talker_token)
say(talker, 400)  # 1.6 MB of history
reader = Client(chat_port, rcvbuf=8192)
reader.request(op="auth", id="a", token=reader_token)

print("1. The reader asks for 8 pages of history (6.4 MB) and a ping, and reads nothing.")
for page in range(8):
    reader.send({"op": "history", "id": page, "limit": 200})
reader.send({"op": "ping", "id": "ping"})
time.sleep(1.0)  # a second of reading nothing
order = []
while "ping" not in order:
    reply = reader.frame()
    if "status" in reply:
        order.append(reply["id"])
print("   Then it read %.1f MB: %s, in the order asked."
      % (reader.received / 1e6, ", ".join("page %d" % i if i != "ping" else i
                                          for i in order)))

print("2. The reader stops reading for good; the talker says 3,000 messages (12 MB).")
before = reader.received
say(talker, 3000)
try:
    while True:
        reader.frame()
except OSError as exc:  # closed by the server, or reset
    print("   The reader got %.1f MB of the 12 MB, then: %s"
          % ((reader.received - before) / 1e6, exc))
talker.sock.close()
reader.sock.close()
