"""Lab 2: twenty requests in one write, then how their replies arrive (docs/LABS.md).

    python docs/labs/sticky.py [PORT]        the server's auth port, 9999 by default

Only socket, struct and json. Each recv() prints how many bytes it returned, which frames
it completed, and how many bytes of the next frame wait in the buffer.
"""
import json
import socket
import struct
import sys

port = int(sys.argv[1]) if len(sys.argv) > 1 else 9999


def frame(message):
    body = json.dumps(message).encode("utf-8")
    return struct.pack(">BI", 0x4A, len(body)) + body


with socket.create_connection(("127.0.0.1", port)) as sock:
    # Twenty frames in one write: stuck together on purpose.
    sock.sendall(b"".join(frame({"op": "hello", "id": i}) for i in range(1, 21)))
    buf, ids, reads = bytearray(), [], 0
    while len(ids) < 20:
        data = sock.recv(65536)
        if not data:
            raise SystemExit("the server closed the connection")
        reads += 1
        buf += data
        whole = []
        while len(buf) >= 5:  # a whole header: is the whole body there too?
            kind, length = struct.unpack(">BI", buf[:5])
            if len(buf) < 5 + length:
                break
            whole.append(json.loads(buf[5:5 + length])["id"])
            del buf[:5 + length]
        ids += whole
        print("recv() returned %5d bytes; whole frames: %-10s bytes of the next one: %d"
              % (len(data), ",".join(map(str, whole)) or "none", len(buf)))
    print("%d replies in %d recv() calls, in order: %s" % (len(ids), reads,
                                                        ids == list(range(1, 21))))
