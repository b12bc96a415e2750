"""The GUI's after() tick (mean, 99th percentile, longest) while receiving 1,000 messages/s,
while uploading a 1 GiB file and while downloading it back, through the real App against a
real local server (the target is under 30 ms: a tick longer than that is a visible stutter).
The temporary files (the file, the server's copy, the download) are deleted at the end.

    python bench/gui_tick.py [--quick]      prints one JSON line (--quick: 128 MiB)
    python bench/gui_tick.py --inspector    the frame inspector's cost on the tick while
                                            receiving 1,000 messages/s: closed, open,
                                            closed again (one JSON line)
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--inspector", action="store_true")
    args = p.parse_args()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", "1", "-screen", "0", "1280x800x24",
                             "-nolisten", "tcp"], stdout=subprocess.PIPE)
    os.environ["DISPLAY"] = ":" + xvfb.stdout.readline().decode().strip()
    tmp = tempfile.mkdtemp()
    os.environ["CHATROOM_CONFIG_DIR"] = os.path.join(tmp, "cfg")
    from bench.loadgen import Ours
    from bench.servers import OurServer
    server = OurServer(os.path.join(tmp, "srv"), "--sms", "off")
    try:
        import tkinter as tk

        from ui.settings import ClientSettings
        from ui.tk.app import App
        driver = Ours(server.ports["auth"], server.ports["chat"])
        driver.user("gui_user")
        app = App(tk.Tk(), ClientSettings(server="127.0.0.1:%d" % server.ports["auth"]), "en",
                  os.path.join(tmp, "c.json"))
        app.login_view.login.set("gui_user")
        app.login_view.password.set("bench password 1")
        app.login_view.submit_button.invoke()
        deadline = time.monotonic() + 20
        while not (app.chat is not None and app.session.state == "online"):
            app.root.update()
            if time.monotonic() > deadline:
                raise TimeoutError("GUI never logged in")
        sender = driver.open("gui_sender")
        sender.setblocking(True)
        seconds = 2 if args.quick else 5
        if args.inspector:
            print(json.dumps(inspector_cost(app, sender, 3 if args.quick else 10)))
            app.quit()
            return 0
        timer = TickTimer(app)
        send_for(app, sender, 1.0, 0)  # settle: the view full, its oldest dropped as new come
        app.longest_tick_s = 0.0
        timer.start()
        sent = send_for(app, sender, seconds, 1000)
        receiving = timer.stats()
        receiving_ms = app.longest_tick_s * 1000
        size = (128 if args.quick else 1024) * 1024 * 1024
        path = os.path.join(tmp, "big.bin")
        with open(path, "wb") as f:
            block = os.urandom(1024 * 1024)
            for _ in range(size // len(block)):
                f.write(block)
        app.longest_tick_s = 0.0
        app.files.upload_paths([path])
        timer.start()
        upload_s = pump_until(app, lambda: all(t.finished for t in app.files.queue.items),
                              TRANSFER_MAX_S, "the upload")
        uploading = timer.stats()
        upload = app.files.queue.items[0]
        state = upload.state
        uploading_ms = app.longest_tick_s * 1000
        os.unlink(path)
        # ... and the same file back (written, hashed and renamed by the GUI's tick)
        downloads = os.path.join(tmp, "downloads")
        os.makedirs(downloads)
        app.files.clear_finished()
        timer.start()
        if upload.record:
            app.files.download([upload.record["file_id"]], None, downloads)
        download_s = pump_until(app, lambda: all(t.finished for t in app.files.queue.items),
                                TRANSFER_MAX_S, "the download")
        downloading = timer.stats()
        download_state = app.files.queue.items[0].state if app.files.queue.items else "none"
        shutil.rmtree(downloads)
        app.quit()
        print(json.dumps({"receiving_1000_per_s_longest_tick_ms": receiving_ms,
                          "messages_sent": sent, "upload_bytes": size,
                          "upload_state": state, "upload_seconds": upload_s,
                          "uploading_longest_tick_ms": uploading_ms,
                          "download_state": download_state, "download_seconds": download_s,
                          "receiving": receiving, "uploading": uploading,
                          "downloading": downloading}))
    finally:
        server.stop()
        xvfb.terminate()
        shutil.rmtree(tmp, ignore_errors=True)  # the 1 GiB file and the server's copy
    return 0


# A transfer of the benchmark that takes longer than this is a failure, not a result.
TRANSFER_MAX_S = 600


class TickTimer:
    """Times every run of the App's tick (which reschedules itself through app._tick)."""

    def __init__(self, app) -> None:
        self.durations = []
        tick = app._tick

        def timed_tick():
            t0 = time.perf_counter()
            tick()
            self.durations.append(time.perf_counter() - t0)
        app._tick = timed_tick

    def start(self) -> None:
        self.durations = []

    def stats(self) -> dict:
        """The ticks since start(): how many, mean, 99th percentile and longest (ms)."""
        ticks = sorted(self.durations) or [0.0]
        return {"ticks": len(self.durations),
                "mean_ms": round(1000 * sum(ticks) / len(ticks), 3),
                "p99_ms": round(1000 * ticks[int(len(ticks) * 0.99)], 3),
                "longest_ms": round(1000 * ticks[-1], 3)}


def pump_until(app, done, limit_s: float, what: str) -> float:
    """Run the GUI until done(); the seconds it took. TimeoutError after limit_s."""
    t0 = time.perf_counter()
    while not done():
        app.root.update()
        if time.perf_counter() - t0 > limit_s:
            raise TimeoutError("%s did not finish in %d s" % (what, limit_s))
    return time.perf_counter() - t0


def send_for(app, sender, seconds: float, first: int) -> int:
    """Say 1,000 messages a second for `seconds` while pumping the GUI; returns how many."""
    from bench.loadgen import jframe
    t0 = time.perf_counter()
    sent = 0
    while time.perf_counter() - t0 < seconds:
        due = int((time.perf_counter() - t0) * 1000)
        if sent < due:
            sender.sendall(b"".join(jframe({"op": "say", "text": "m%d" % i})
                                    for i in range(first + sent, first + due)))
            sent = due
            try:
                sender.setblocking(False)
                while sender.recv(1 << 20):
                    pass
            except BlockingIOError:
                pass
            sender.setblocking(True)
        app.root.update()
    return sent


def inspector_cost(app, sender, seconds: float) -> dict:
    """The tick's mean, 99th percentile and longest duration while 1,000 messages a second
    arrive, with the inspector closed, open (drawing every frame), and closed again."""
    durations = []
    tick = app._tick

    def timed_tick():
        t0 = time.perf_counter()
        tick()
        durations.append(time.perf_counter() - t0)
    app._tick = timed_tick  # the tick reschedules itself through this attribute
    result = {"messages_per_s": 1000, "seconds_per_phase": seconds}
    first = 0
    for phase in ("closed", "open", "closed_again"):
        if phase == "open":
            app.open_inspector()
        elif phase == "closed_again":
            app.close_inspector()
        send_for(app, sender, 1.0, first)  # settle
        first += 1000
        durations.clear()
        first += send_for(app, sender, seconds, first)
        ticks = sorted(durations)
        result[phase] = {"ticks": len(ticks),
                         "mean_ms": round(1000 * sum(ticks) / len(ticks), 3),
                         "p99_ms": round(1000 * ticks[int(len(ticks) * 0.99)], 3),
                         "longest_ms": round(1000 * ticks[-1], 3)}
        if phase == "open":
            result[phase]["frames_recorded"] = app.inspector._next_number - 1
            result[phase]["rows_in_table"] = len(app.inspector_view.tree.get_children())
    result["hook_us_per_frame"] = hook_cost()
    return result


def hook_cost(frames: int = 20000, rounds: int = 5) -> dict:
    """What the observer hook adds to ClientConnection.poll per frame received: nothing
    hooked (the inspector closed), and the inspector recording (without its window)."""
    import socket

    from bench.loadgen import jframe
    from net.client import ClientConnection
    from ui.i18n import Catalog
    from ui.presenters.inspector import InspectorPresenter
    data = b"".join(jframe({"op": "message", "msg_id": i, "from": "bench", "to": None,
                            "text": "m%d" % i, "ts": 1.0}) for i in range(frames))
    best = {}
    for mode in ("closed", "recording") * rounds:
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen()
            conn = ClientConnection("127.0.0.1", listener.getsockname()[1])
            server, _ = listener.accept()
            while conn.state.value != "open":
                conn.poll()
            if mode == "recording":
                conn.observer = InspectorPresenter(Catalog("en")).on_frame
            got = 0
            with server:
                server.setblocking(False)
                sent = 0
                t0 = time.perf_counter()
                while got < frames:
                    if sent < len(data):
                        try:
                            sent += server.send(data[sent:sent + (1 << 20)])
                        except BlockingIOError:
                            pass
                    got += len(conn.poll())
                elapsed = time.perf_counter() - t0
            conn.close()
        best[mode] = min(best.get(mode, elapsed), elapsed)
    return {mode: round(1e6 * t / frames, 2) for mode, t in best.items()}


if __name__ == "__main__":
    sys.exit(main())
