"""Lab 5 (docs/LABS.md): a wiretap between a client and a server, printing what goes by.

    python docs/labs/tap.py LISTEN_PORT SERVER_PORT

Listens on 127.0.0.1:LISTEN_PORT (0 picks a free port; the first line says which),
forwards every connection to 127.0.0.1:SERVER_PORT, and prints each chunk it forwards: its
direction, its size, its first 16 bytes in hex and its first 200 as text. One thread, one
selector, like the server; stop it with Ctrl+C.
"""
import selectors
import socket
import sys

listen_port, server_port = int(sys.argv[1]), int(sys.argv[2])
selector = selectors.DefaultSelector()
listener = socket.create_server(("127.0.0.1", listen_port))
selector.register(listener, selectors.EVENT_READ)
print("tap: listening on 127.0.0.1:%d, forwarding to 127.0.0.1:%d"
      % (listener.getsockname()[1], server_port), flush=True)


def show(arrow, data):
    text = "".join(chr(b) if 32 <= b < 127 else "." for b in data[:200])
    print("%s %5d bytes  %-47s  %s" % (arrow, len(data), data[:16].hex(" "), text), flush=True)


try:
    while True:
        for key, _ in selector.select():
            if key.fileobj is listener:
                client, _ = listener.accept()
                server = socket.create_connection(("127.0.0.1", server_port))
                selector.register(client, selectors.EVENT_READ, (server, "client -> server"))
                selector.register(server, selectors.EVENT_READ, (client, "server -> client"))
                continue
            if key.fileobj.fileno() < 0:  # closed a moment ago, with its partner
                continue
            other, arrow = key.data
            try:
                data = key.fileobj.recv(65536)
            except OSError:  # reset: as good as closed
                data = b""
            if data:
                show(arrow, data)
                other.sendall(data)  # a tap may block: it serves one lab, not a classroom
            else:  # one side closed: close both
                for sock in (key.fileobj, other):
                    selector.unregister(sock)
                    sock.close()
except KeyboardInterrupt:
    pass
