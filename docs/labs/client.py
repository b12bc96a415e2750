"""Lab 3 (docs/LABS.md): log in and say hello with nothing but socket, struct and json.

    python docs/labs/client.py PORT USER PASSWORD
"""
import json
import socket
import struct
import sys


def send(sock, message):
    body = json.dumps(message).encode("utf-8")
    data = memoryview(struct.pack(">BI", 0x4A, len(body)) + body)
    while data:  # send() may take only part of it: send the rest
        data = data[sock.send(data):]


def recv_exactly(sock, n):
    data = b""
    while len(data) < n:  # recv() may return less than asked: ask again
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("the server closed the connection")
        data += chunk
    return data


def request(sock, **message):  # send it; return the frame that answers it
    send(sock, message)
    while True:
        kind, length = struct.unpack(">BI", recv_exactly(sock, 5))
        frame = json.loads(recv_exactly(sock, length))
        if frame.get("id") == message["id"] or frame["op"] == "error":
            return frame  # (events that come first, like presence, are skipped)


port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with socket.create_connection(("127.0.0.1", port)) as auth:
    login = request(auth, op="login", id=1, login=user, password=password)
print("login:", login["status"])
if login["status"] != "ok":
    sys.exit(login["message"])
with socket.create_connection(("127.0.0.1", login["services"]["chat"])) as chat:
    print("auth:", request(chat, op="auth", id=2, token=login["token"])["status"])
    print("say:", request(chat, op="say", id=3, text="hello")["status"])
