"""Regenerate docs/screenshots/*.png: every window, in Chinese and in English.

    python docs/make_screenshots.py

Starts Xvfb (unless DISPLAY is set), a throw-away server, and the real client windows; fills
them like a user would and captures each with ImageMagick's `import`. Needs xvfb and
imagemagick (apt install xvfb imagemagick fonts-noto-cjk).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
OUT = os.path.join(ROOT, "docs", "screenshots")


def pump(apps, seconds=0.0, until=None, timeout_s=20.0):
    deadline = time.monotonic() + (seconds or timeout_s)
    while time.monotonic() < deadline:
        for app in apps:
            app.root.update()
        if until is not None and until():
            return
        time.sleep(0.01)
    if until is not None:
        raise TimeoutError("screenshot script: a window never got ready")


def shoot(widget, name):
    widget.update()
    window = widget.winfo_toplevel()
    subprocess.run(["import", "-window", str(window.winfo_id()), os.path.join(OUT, name)],
                   check=True)
    print("wrote", name)


def main() -> int:
    if not shutil.which("import"):
        print("needs ImageMagick's `import` (apt install imagemagick)")
        return 2
    xvfb = None
    if not os.environ.get("DISPLAY"):
        xvfb = subprocess.Popen(["Xvfb", "-displayfd", "1", "-screen", "0", "1280x900x24",
                                 "-nolisten", "tcp"], stdout=subprocess.PIPE)
        os.environ["DISPLAY"] = ":" + xvfb.stdout.readline().decode().strip()
    tmp = tempfile.mkdtemp()
    os.environ["CHATROOM_CONFIG_DIR"] = os.path.join(tmp, "config")
    os.makedirs(OUT, exist_ok=True)
    from tests.procs import ServerProc
    srv = ServerProc(os.path.join(tmp, "server"), "--flood-limit", "0")
    from net.tls import make_self_signed
    cert, key = make_self_signed(os.path.join(tmp, "tls"), "localhost")
    tls_srv = ServerProc(os.path.join(tmp, "tls-server"), "--tls-cert", cert, "--tls-key", key)
    try:
        for lang in ("zh", "en"):
            shoot_language(srv, lang, tmp)
            shoot_trust(tls_srv, lang, tmp)
    finally:
        srv.stop()
        tls_srv.stop()
        if xvfb is not None:
            xvfb.terminate()
    return 0


def shoot_language(srv, lang, tmp):
    import tkinter as tk

    from ui.settings import ClientSettings
    from ui.tk.app import App
    from ui.transfers import Folder

    def new_app(name):
        settings = ClientSettings(server="127.0.0.1:%d" % srv.auth, last_login=name)
        return App(tk.Tk(), settings, lang, os.path.join(tmp, "cfg-%s-%s.json" % (lang, name)))

    names = {"zh": ("小明", "李老师"), "en": ("alice", "teacher")}[lang]
    phones = {"zh": ("13800000001", "13800000002"), "en": ("13800000003", "13800000004")}[lang]
    password = "chatroom 2026"
    me, other = new_app(names[0]), new_app(names[1])
    apps = [me, other]
    pump(apps, 0.7)
    shoot(me.root, "login-%s.png" % lang)

    for app, name, phone in zip(apps, names, phones):
        app.login_view.register_button.invoke()
        view = app.register_view
        pump(apps, until=lambda v=view: v.send_button.winfo_ismapped())
        for field, value in (("username", name), ("password", password),
                             ("confirm", password), ("phone", phone)):
            view.vars[field].set(value)
        view.send_button.invoke()
        pump(apps, until=lambda p=phone: ("SMS code for %s" % p) in srv.log())
        view.vars["code"].set(srv.sms_code(phone))
        if app is me:
            view.vars["email"].set("alice@example")  # a hint shows what is wrong
            pump(apps, 0.3)
            shoot(view.window, "register-%s.png" % lang)
            view.vars["email"].set("")
        view.submit_button.invoke()
        pump(apps, until=lambda a=app: a.register_view is None)
        app.login_view.password.set(password)
        app.login_view.submit_button.invoke()
        pump(apps, until=lambda a=app: a.chat is not None and a.session.state == "online")
    me.root.geometry("980x620")
    lines = {"zh": ["大家好！今天的作业在共享文件里。", "收到，谢谢老师！", "第二题的图在哪一页？"],
             "en": ["Hello everyone! Today's exercises are in the shared files.",
                    "Got it, thanks!", "Which page is the figure for question 2 on?"]}[lang]
    for i, text in enumerate(lines):
        sender = other if i % 2 == 0 else me
        sender.session.say(text, None)
        pump(apps, until=lambda t=text: t in [e["text"] for e in
                                              me.chat.conversations.get("", [])])
    other.session.say({"zh": "下课后来一下办公室。", "en": "Can you drop by after class?"}[lang],
                      names[0])
    pump(apps, until=lambda: me.chat.unread.get(names[1]))
    me.chat_view.input.insert("1.0", {"zh": "好的，马上到", "en": "Sure, on my way"}[lang])
    pump(apps, 0.3)
    shoot(me.root, "chat-%s.png" % lang)

    folder = os.path.join(tmp, lang, {"zh": "第一周作业", "en": "week1-homework"}[lang])
    os.makedirs(os.path.join(folder, "figures"), exist_ok=True)
    for rel, size in (("exercises.pdf", 180_000), ("figures/q2.png", 64_000),
                      ("notes.txt", 3_000)):
        with open(os.path.join(folder, rel), "wb") as f:
            f.write(os.urandom(size))
    big = os.path.join(tmp, lang, "lecture.mp4")
    with open(big, "wb") as f:
        f.write(os.urandom(60 * 1024 * 1024))
    me.open_files()
    me.files.upload_paths([folder, big])
    pump(apps, until=lambda: sum(t.state == "done" for t in me.files.queue.items) >= 3,
         timeout_s=60)
    me.files_view.tree.item(me.files_view.folder_item(Folder(names[0],
                                                            os.path.basename(folder))),
                            open=True)
    pump(apps, 0.3)
    shoot(me.files_view.window, "files-%s.png" % lang)
    pump(apps, until=lambda: all(t.finished for t in me.files.queue.items), timeout_s=120)

    settings = me.open_settings()
    pump(apps, 0.3)
    shoot(settings.window, "settings-%s.png" % lang)
    settings.close()
    for app in apps:
        app.quit()


def shoot_trust(srv, lang, tmp):
    """The trust-on-first-use question, shown when a TLS server's certificate is new."""
    import tkinter as tk

    from ui.pins import KnownServers, tls_options
    from ui.settings import ClientSettings
    from ui.tk.app import App
    known = KnownServers(os.path.join(tmp, "known-%s.json" % lang))
    app = App(tk.Tk(), ClientSettings(server="127.0.0.1:%d" % srv.auth, last_login="alice"),
              lang, os.path.join(tmp, "cfg-trust-%s.json" % lang),
              tls_for=lambda host, port, decide: tls_options("%s:%d" % (host, port), known,
                                                             decide))
    dialog = ".__tk__messagebox"

    def capture():
        if not app.root.tk.call("winfo", "exists", dialog):
            app.root.after(100, capture)
            return
        app.root.update()
        subprocess.run(["import", "-window", "root", "-crop", "760x460+0+0",
                        os.path.join(OUT, "trust-%s.png" % lang)], check=True)
        print("wrote trust-%s.png" % lang)
        app.root.tk.call(dialog + ".no", "invoke")  # answer "no": nothing is pinned
    app.root.after(300, capture)
    app.login_view.password.set("anything 1")
    app.login_view.submit_button.invoke()
    pump([app], until=lambda: "trusted" in app.login_view.message.cget("text"))
    assert known.get("127.0.0.1:%d" % srv.auth) is None
    app.quit()


if __name__ == "__main__":
    sys.exit(main())
