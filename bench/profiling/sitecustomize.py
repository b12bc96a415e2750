"""A profiling hook for benchmark runs only (bench/profile_pingpong.py), never for serving.

Python imports ``sitecustomize`` at start-up from sys.path; bench/profile_pingpong.py puts
this folder on PYTHONPATH of the server process it starts, and sets:

    CHATROOM_PROFILE_DIR    where to write (required, else this does nothing)
    CHATROOM_PROFILE_MODE   "tids": write each thread's name and native id to
                            threads-PID.txt as it starts (for per-thread CPU from /proc);
                            "cprofile": that too, and every thread runs under its own
                            cProfile.Profile, dumped to NAME-PID.prof when it ends (the main
                            thread's at exit); its clock is the wall clock
                            "cpuprofile": the same with each thread's own CPU clock
                            (time.thread_time): a call's time is the CPU it took, kernel
                            included, and time spent waiting (epoll, a queue) is not counted

The server's code is not changed: threading.Thread.run is wrapped here.
"""
from __future__ import annotations

import atexit
import os
import threading

_DIR = os.environ.get("CHATROOM_PROFILE_DIR")
_MODE = os.environ.get("CHATROOM_PROFILE_MODE", "tids")


def _record(name: str) -> None:
    with open(os.path.join(_DIR, "threads-%d.txt" % os.getpid()), "a") as f:
        f.write("%s %d\n" % (name, threading.get_native_id()))


def _dump(profile: object, name: str) -> None:
    profile.dump_stats(os.path.join(_DIR, "%s-%d.prof" % (name, os.getpid())))


if _DIR:
    import cProfile
    import time

    def _new_profile() -> cProfile.Profile:
        if _MODE == "cpuprofile":
            return cProfile.Profile(time.thread_time)
        return cProfile.Profile()

    _record("MainThread")
    _original_run = threading.Thread.run

    def _run(self: threading.Thread) -> None:
        _record(self.name)
        if _MODE not in ("cprofile", "cpuprofile"):
            _original_run(self)
            return
        profile = _new_profile()
        profile.enable()
        try:
            _original_run(self)
        finally:
            profile.disable()
            _dump(profile, self.name)

    threading.Thread.run = _run  # type: ignore[method-assign]
    if _MODE in ("cprofile", "cpuprofile"):
        _main = _new_profile()
        _main.enable()

        def _main_done() -> None:
            _main.disable()
            _dump(_main, "MainThread")
        atexit.register(_main_done)
