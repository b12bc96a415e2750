"""Regenerate docs/screenshots/*.png: every window, in Chinese and in English.

    python docs/make_screenshots.py
    python docs/make_screenshots.py discover     only login-* and discover-{en,zh}.png
    python docs/make_screenshots.py class        only the teacher's and a muted student's
                                                 views (admin-chat, handins, audit, muted)

Starts Xvfb (unless DISPLAY is set), a throw-away server, and the real client windows; fills
them like a user would and captures each with ImageMagick's `import`. Needs xvfb and
imagemagick (apt install xvfb imagemagick fonts-noto-cjk).
"""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Iterator

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


def main(argv=None) -> int:
    only = (sys.argv[1:] if argv is None else argv)[:1]
    if not shutil.which("import"):
        print("needs ImageMagick's `import` (apt install imagemagick)")
        return 2
    if only == ["discover"]:
        return shoot_discovery_all()
    if only == ["class"]:
        return shoot_class_all()
    if only == ["inspector"]:
        return shoot_inspector_all()
    xvfb = None
    if not os.environ.get("DISPLAY"):
        xvfb = subprocess.Popen(["Xvfb", "-displayfd", "1", "-screen", "0", "1280x900x24",
                                 "-nolisten", "tcp"], stdout=subprocess.PIPE)
        os.environ["DISPLAY"] = ":" + xvfb.stdout.readline().decode().strip()
    tmp = tempfile.mkdtemp()
    os.environ["CHATROOM_CONFIG_DIR"] = os.path.join(tmp, "config")
    os.makedirs(OUT, exist_ok=True)
    from net.tls import make_self_signed
    from tests.procs import ServerProc
    cert, key = make_self_signed(os.path.join(tmp, "tls"), "localhost")
    tls_srv = ServerProc(os.path.join(tmp, "tls-server"), "--tls-cert", cert, "--tls-key", key)
    try:
        for lang in ("zh", "en"):
            srv = ServerProc(os.path.join(tmp, "server-" + lang), "--flood-limit", "0")
            try:  # a server of its own: the other language's messages stay out of sight
                shoot_language(srv, lang, tmp)
            finally:
                srv.stop()
            shoot_trust(tls_srv, lang, tmp)
            shoot_class(lang, tmp)
        shoot_discovery_all()
        shoot_inspector_all()
    finally:
        tls_srv.stop()
        if xvfb is not None:
            xvfb.terminate()
        shutil.rmtree(tmp, ignore_errors=True)
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
    # Yesterday's messages, for the date dividers (issue 20): said now, then dated a day
    # back in the database while the server is stopped; the history after the restart
    # carries their dates. `me` logs in again afterwards, to be sent that history.
    me.logout()
    yesterday = {"zh": "提醒：第一周作业明天交。",
                 "en": "Reminder: week 1 homework is due tomorrow."}
    other.session.say(yesterday[lang], None)
    pump(apps, until=lambda: yesterday[lang] in [e["text"] for e in
                                                 other.chat.conversations.get("", [])])
    srv.stop()
    import sqlite3
    with contextlib.closing(sqlite3.connect(os.path.join(srv.data_dir, "chatroom.db"))) as db:
        db.execute("UPDATE messages SET created_at = created_at - 86400")
        db.commit()
    srv.restart()
    for _ in range(3):  # the first try may meet the auth connection the restart closed
        me.login_view.password.set(password)
        me.login_view.submit_button.invoke()
        pump(apps, until=lambda: me.chat is not None or me.login_view.message.cget("text")
             and str(me.login_view.submit_button.cget("state")) == "normal")
        if me.chat is not None:
            break
    pump(apps, until=lambda: me.chat is not None and me.session.state == "online" and
         other.session.state == "online")
    other.root.withdraw()  # it stays connected, out of the pictures
    me.root.geometry("980x640")
    me.root.lift()
    teacher_name = names[1]
    lines = {"zh": [(other, "大家好！今天的作业在共享文件里。"),
                    (other, "讲义在这里：https://docs.python.org/zh-cn/3/tutorial/"),
                    (me, "收到，谢谢老师！"),
                    (other, "第二题可以这样开始：\n```\nfor i in range(3):\n    print(i * i)\n```"),
                    (other, "@%s 你的图画得很好，可以分享给大家吗？" % names[0])],
             "en": [(other, "Hello everyone! Today's exercises are in the shared files."),
                    (other, "The notes: https://docs.python.org/3/tutorial/"),
                    (me, "Got it, thanks!"),
                    (other, "Question 2 can start like this:\n```\nfor i in range(3):\n"
                            "    print(i * i)\n```"),
                    (other, "@%s your figure is great, could you share it?" % names[0])]}[lang]
    for sender, text in lines:
        sender.session.say(text, None)
        pump(apps, until=lambda t=text: t in [e["text"] for e in
                                              me.chat.conversations.get("", [])])
    other.session.say({"zh": "下课后来一下办公室。", "en": "Can you drop by after class?"}[lang],
                      names[0])
    pump(apps, until=lambda: me.chat.unread.get(teacher_name))
    me.chat_view.input.insert("1.0", {"zh": "好的，马上到", "en": "Sure, on my way"}[lang])
    pump(apps, 0.3)
    shoot(me.root, "chat-%s.png" % lang)

    # a private conversation: the recipient bar says who reads what is typed
    me.chat.switch_to(teacher_name)
    pump(apps, 0.3)
    shoot(me.root, "chat-private-%s.png" % lang)
    me.chat.switch_to("")
    me.root.geometry("480x400")  # the smallest a class laptop's split screen gives
    pump(apps, 0.5)
    shoot(me.root, "chat-narrow-%s.png" % lang)
    me.root.geometry("980x640")
    me.remember(theme="dark")
    pump(apps, 0.5)
    shoot(me.root, "chat-dark-%s.png" % lang)
    me.remember(theme="light")
    me.chat_view.input.delete("1.0", "end")

    from tests.conftest import register  # classmates who are not online: listed too
    for n, name in enumerate({"zh": ("小红", "小刚"), "en": ("hong", "gang")}[lang]):
        register(srv, name, "138000001%02d" % (n + (10 if lang == "zh" else 20)), password)
    members = me.chat_view.open_members()
    pump(apps, until=lambda: len(members.table.get_children()) >= 4)
    pump(apps, 0.3)
    shoot(members.window, "members-%s.png" % lang)
    members.close()
    search = me.chat_view.open_search()
    search.text.insert(0, {"zh": "作业", "en": "exercises"}[lang])
    search.search_button.invoke()
    pump(apps, until=lambda: len(search.table.get_children()) >= 1)
    pump(apps, 0.3)
    shoot(search.window, "search-%s.png" % lang)
    search.close()

    folder = os.path.join(tmp, lang, {"zh": "第一周作业", "en": "week1-homework"}[lang])
    os.makedirs(os.path.join(folder, "figures"), exist_ok=True)
    for rel, size in (("exercises.pdf", 180_000), ("notes.txt", 3_000)):
        with open(os.path.join(folder, rel), "wb") as f:
            f.write(os.urandom(size))
    figure = os.path.join(folder, "figures", "q2.png")
    chart(me.root, figure)
    big = os.path.join(tmp, lang, "lecture.mp4")
    with open(big, "wb") as f:
        f.write(os.urandom(60 * 1024 * 1024))
    me.open_files()
    me.files_view.window.geometry("1040x760")  # room for the preview beside every column
    me.files.upload_paths([folder, big])
    pump(apps, until=lambda: sum(t.state == "done" for t in me.files.queue.items) >= 3,
         timeout_s=60)
    view = me.files_view
    pump(apps, until=lambda: view.tree.exists(view.folder_item(Folder(
        names[0], os.path.basename(folder)))))
    view.tree.item(view.folder_item(Folder(names[0], os.path.basename(folder))), open=True)
    picture = next(r["file_id"] for r in me.files.files.values()
                   if r["name"].endswith("q2.png"))
    view.tree.selection_set("f:%d" % picture)  # the picture is previewed beside the list
    pump(apps, until=lambda: view.preview_path is not None, timeout_s=30)
    pump(apps, 0.3)
    shoot(view.window, "files-%s.png" % lang)
    pump(apps, until=lambda: all(t.finished for t in me.files.queue.items), timeout_s=120)
    view.close()

    # A picture the teacher shares shows in the chat as a thumbnail (issue 20).
    shared = os.path.join(tmp, lang, {"zh": "第二题答案.png", "en": "answer-q2.png"}[lang])
    chart(me.root, shared)
    other.files.upload_paths([shared])
    pump(apps, until=lambda: me.chat_view.text.image_names(), timeout_s=30)
    me.root.lift()
    me.chat_view.text.see("end")
    pump(apps, 0.5)
    shoot(me.root, "chat-picture-%s.png" % lang)

    settings = me.open_settings()
    pump(apps, 0.3)
    shoot(settings.window, "settings-%s.png" % lang)
    settings.close()
    for app in apps:
        app.quit()


def chart(master, path):
    """A small bar chart as a PNG (Tk writes it: no other library), the picture shared."""
    import tkinter as tk
    picture = tk.PhotoImage(master=master, width=360, height=240)
    picture.put("#ffffff", to=(0, 0, 360, 240))
    picture.put("#9e9e9e", to=(30, 210, 340, 212))
    for i, (height, colour) in enumerate(((60, "#4c78a8"), (120, "#f58518"),
                                          (170, "#54a24b"), (95, "#e45756"),
                                          (140, "#72b7b2"))):
        left = 45 + i * 58
        picture.put(colour, to=(left, 210 - height, left + 40, 210))
    picture.write(path, format="png")


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
    refused = app.tr("net.not_trusted", server="127.0.0.1:%d" % srv.auth)
    pump([app], until=lambda: refused in app.login_view.message.cget("text"))
    assert known.get("127.0.0.1:%d" % srv.auth) is None
    app.quit()


@contextlib.contextmanager
def screen(size: str) -> Iterator[str]:
    """A screen to shoot on: Xvfb of that size (unless DISPLAY is set), openbox for the
    window frames when it is installed, and a throw-away folder for the clients' settings.
    Yields the folder; everything started here is stopped afterwards, by its process."""
    started = []
    if not os.environ.get("DISPLAY"):
        xvfb = subprocess.Popen(["Xvfb", "-displayfd", "1", "-screen", "0", size + "x24",
                                 "-nolisten", "tcp"], stdout=subprocess.PIPE)
        started.append(xvfb)
        os.environ["DISPLAY"] = ":" + xvfb.stdout.readline().decode().strip()
    if shutil.which("openbox"):
        started.append(subprocess.Popen(["openbox"], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL))
        time.sleep(0.5)  # openbox takes over the screen; nothing to poll for
    tmp = tempfile.mkdtemp()
    os.environ["CHATROOM_CONFIG_DIR"] = os.path.join(tmp, "config")
    os.makedirs(OUT, exist_ok=True)
    try:
        yield tmp
    finally:
        for proc in reversed(started):
            proc.terminate()
            proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


def shoot_discovery_all() -> int:
    """The login window after Find servers, in both languages: Xvfb, a window manager
    (openbox) for the frame, and `import -window root`. Discovery probes go to 127.0.0.1
    only (--discover-to), never to this machine's real networks."""
    from net.tls import make_self_signed
    from tests.procs import ServerProc
    with screen("1024x768") as tmp:
        cert, key = make_self_signed(os.path.join(tmp, "tls"), "localhost")
        servers = []
        try:
            for lang, names in (("en", ("Room 204 — Python", "Lab B")),
                                ("zh", ("李老师的课堂", "计算机实验室 B"))):
                plain = ServerProc(os.path.join(tmp, lang, "plain"), "--name", names[0])
                secure = ServerProc(os.path.join(tmp, lang, "tls"), "--name", names[1],
                                    "--tls-cert", cert, "--tls-key", key)
                servers += [plain, secure]
                shoot_discovery(lang, tmp, plain, secure)
        finally:
            for srv in servers:
                srv.stop()
    return 0


def shoot_discovery(lang, tmp, plain, secure):
    import tkinter as tk

    from tests.conftest import chat_client, register
    from ui.settings import ClientSettings
    from ui.tk.app import App
    online = [chat_client(plain, register(plain)) for _ in range(3)]  # some users online
    settings = ClientSettings(server="127.0.0.1:%d" % plain.auth,
                              last_login={"zh": "小明", "en": "alice"}[lang])
    app = App(tk.Tk(), settings, lang, os.path.join(tmp, "cfg-discover-%s.json" % lang),
              discover_to=lambda: [("127.0.0.1", plain.auth), ("127.0.0.1", secure.auth)])
    pump([app], 0.7)
    shoot(app.root, "login-%s.png" % lang)  # before Find servers: the window as it opens
    view = app.login_view
    view.server.set("")
    view.login.set("")
    view.find_button.invoke()
    pump([app], until=lambda: len(view.servers.get_children()) == 2 and
         str(view.find_button.cget("state")) == "normal")
    view.servers.selection_set(view.servers.get_children()[0])
    pump([app], 0.5)
    root = app.root
    x, y = root.winfo_rootx(), root.winfo_rooty()
    width, height = root.winfo_width(), root.winfo_height()
    title_px = 28 if shutil.which("openbox") else 0  # the window manager's title bar
    crop = "%dx%d+%d+%d" % (width + 8, height + title_px + 8, max(0, x - 4),
                            max(0, y - title_px - 4))
    subprocess.run(["import", "-window", "root", "-crop", crop,
                    os.path.join(OUT, "discover-%s.png" % lang)], check=True)
    print("wrote discover-%s.png" % lang)
    app.quit()
    for client in online:
        client.close()


def bring_to_front(window):
    top = window.winfo_toplevel()
    top.lift()
    top.focus_force()
    for _ in range(30):  # let the window manager restack and redraw
        top.update()
        time.sleep(0.01)


def shoot_screen_area(window, name):
    """The whole screen cut to one window with its title bar: what a posted menu or a
    window manager draws over it is in the picture too."""
    top = window.winfo_toplevel()
    top.update()
    frame = top.wm_frame()
    info = subprocess.run(["xwininfo", "-id", frame], capture_output=True, text=True).stdout
    fields = dict(line.strip().split(":", 1) for line in info.splitlines() if ":" in line)
    x, y = int(fields["Absolute upper-left X"]), int(fields["Absolute upper-left Y"])
    width, height = int(fields["Width"]), int(fields["Height"])
    subprocess.run(["import", "-window", "root", "-crop", "%dx%d+%d+%d" % (width, height, x, y),
                    "+repage", os.path.join(OUT, name)], check=True)
    print("wrote", name)


def wire_user(srv, name, phone, password):
    """Register and log in over the wire: the people in the screenshots who need no window."""
    from tests.wire import WireClient
    with WireClient(srv.auth) as c:
        assert c.request("send_code", phone=phone)["status"] == "ok"
        assert c.request("register", username=name, password=password, phone=phone,
                         code=srv.sms_code(phone), email="")["status"] == "ok"
        reply = c.request("login", login=name, password=password)
    assert reply["status"] == "ok", reply
    chat = WireClient(srv.chat)
    assert chat.request("auth", token=reply["token"])["status"] == "ok"
    files = WireClient(srv.file)
    assert files.request("auth", token=reply["token"])["status"] == "ok"
    return chat, files


def shoot_class(lang, tmp):
    """The teacher's controls (docs/PROTOCOL.md §11): the teacher's chat with the role badge
    and a student's menu, the hand-ins, the moderation log, and a muted student's window."""
    import tkinter as tk

    from tests.procs import ServerProc
    from ui.settings import ClientSettings
    from ui.tk.app import App
    names = {"zh": ("王老师", "小明", "小红", "小刚"),
             "en": ("ms_wang", "ming", "hong", "gang")}[lang]
    teacher, ming, hong, gang = names
    password = "chatroom 2026"
    srv = ServerProc(os.path.join(tmp, "class-" + lang), "--flood-limit", "0",
                     "--admin", teacher)
    others = []
    try:
        apps = []
        for n, name in enumerate((teacher, ming)):
            phone = "1370000%04d" % (n + (10 if lang == "zh" else 20))
            from tests.wire import WireClient
            with WireClient(srv.auth) as c:
                assert c.request("send_code", phone=phone)["status"] == "ok"
                assert c.request("register", username=name, password=password, phone=phone,
                                 code=srv.sms_code(phone), email="")["status"] == "ok"
            app = App(tk.Tk(), ClientSettings(server="127.0.0.1:%d" % srv.auth,
                                              last_login=name), lang,
                      os.path.join(tmp, "cfg-class-%s-%s.json" % (lang, n)))
            app.login_view.password.set(password)
            app.login_view.submit_button.invoke()
            pump([app], until=lambda a=app: a.chat is not None and a.session.state == "online")
            apps.append(app)
        t_app, m_app = apps
        for n, name in enumerate((hong, gang)):
            others.append(wire_user(srv, name, "1370000%04d" % (n + (12 if lang == "zh"
                                                                     else 22)), password))
        (hong_chat, hong_files), (gang_chat, gang_files) = others
        t_app.root.geometry("900x600+20+20")
        m_app.root.geometry("900x600+60+60")
        pump(apps, until=lambda: len(t_app.chat.online) == 4)
        lines = {"zh": ["同学们好！今天讲第三章，练习三周五前上交。", "老师好！",
                        "这课好无聊哈哈哈", "可以用计算器吗？"],
                 "en": ["Good morning! Chapter 3 today; exercise 3 is due on Friday.",
                        "Good morning!", "this class is soooo boring lol",
                        "May we use calculators?"]}[lang]
        t_app.session.say(lines[0], None)
        pump(apps, until=lambda: lines[0] in [e["text"] for e in
                                              m_app.chat.conversations[""]])
        hong_chat.request("say", text=lines[1])
        rude = gang_chat.request("say", text=lines[2])["msg_id"]
        m_app.session.say(lines[3], None)
        pump(apps, until=lambda: lines[3] in [e["text"] for e in
                                              t_app.chat.conversations[""]])
        t_app.chat.message_action(rude, "delete")
        t_app.chat.user_action(ming, "mute:60")
        pump(apps, until=lambda: m_app.chat.lock != "")
        hong_chat.request("say", text={"zh": "收到", "en": "OK, thanks"}[lang])
        pump(apps, 0.5)

        # the teacher right-clicks a student in the online list
        bring_to_front(t_app.root)
        view = t_app.chat_view
        i = view.online_names.index(gang)
        view.online.selection_set(i)
        x, y, _, height = view.online.bbox(i)
        menu = view.user_menu(gang)
        menu.update_idletasks()  # inside the window, under the name clicked
        menu.post(view.online.winfo_rootx() + view.online.winfo_width() - menu.winfo_reqwidth(),
                  view.online.winfo_rooty() + y + height * 4)
        t_app.chat.focus_changed(True)
        pump(apps, 0.5)
        shoot_screen_area(t_app.root, "admin-chat-%s.png" % lang)
        menu.unpost()
        menu.grab_release()

        m_app.chat.focus_changed(True)
        bring_to_front(m_app.root)
        shoot_screen_area(m_app.root, "muted-%s.png" % lang)

        # hand-ins: three students, one of them twice
        homework = {"zh": ("练习三.pdf", "练习三-补充.txt"), "en": ("exercise3.pdf",
                                                             "exercise3-notes.txt")}[lang]
        for files, name, size in ((hong_files, homework[0], 91_000),
                                  (gang_files, homework[0], 120_000),
                                  (gang_files, homework[1], 2_300)):
            assert files.upload(name, os.urandom(size), visibility="admins")["status"] == "ok"
        os.makedirs(os.path.join(tmp, "hand-in-" + lang), exist_ok=True)
        mine = os.path.join(tmp, "hand-in-" + lang, homework[0])
        with open(mine, "wb") as f:
            f.write(os.urandom(150_000))
        m_app.open_files()
        m_app.files.hand_in_paths([mine])
        pump(apps, until=lambda: m_app.files.queue.items[0].finished, timeout_s=30)
        assert m_app.files.queue.items[0].state == "done", m_app.files.queue.items[0].error
        t_app.open_hand_ins()
        t_view = t_app.files_view
        pump(apps, until=lambda: len(t_view.students) == 3 and
             len(t_app.files.files) == 4, timeout_s=30)
        for item in t_view.students:
            t_view.hand_ins.item(item, open=True)
        t_view.window.geometry("820x520+40+40")
        bring_to_front(t_view.window)
        shoot_screen_area(t_view.window, "handins-%s.png" % lang)

        t_app.chat.user_action(gang, "kick:30")
        t_app.chat.set_quiet(True)
        pump(apps, 0.5)
        t_app.open_audit()
        audit = t_app.audit_view
        pump(apps, until=lambda: len(audit.table.get_children()) >= 4)
        audit.window.geometry("+80+80")
        bring_to_front(audit.window)
        shoot_screen_area(audit.window, "audit-%s.png" % lang)
        for app in apps:
            app.quit()
    finally:
        for chat, files in others:
            chat.close()
            files.close()
        srv.stop()


def shoot_class_all() -> int:
    """The teacher's and a muted student's views in both languages, under Xvfb and a window
    manager (openbox) for the title bars, captured from the screen (a posted menu too)."""
    with screen("1280x900") as tmp:
        for lang in ("zh", "en"):
            shoot_class(lang, tmp)
    return 0


def shoot_inspector_all() -> int:
    """The frame inspector (Network → Inspector) over a chat and an upload, in both
    languages, with --chaos on both ends so the Reads column has something to say
    (docs/LABS.md, lab 2): Xvfb, openbox for the window frames, `import -window root`."""
    from tests.procs import ServerProc
    with screen("1280x800") as tmp:
        for lang in ("en", "zh"):
            srv = ServerProc(os.path.join(tmp, lang, "server"), "--flood-limit", "0",
                             "--chaos", "7")
            try:
                shoot_inspector(srv, lang, tmp)
            finally:
                srv.stop()
    return 0


def shoot_inspector(srv, lang, tmp):
    import tkinter as tk

    from net.chaos import Chaos
    from tests.conftest import register
    from tests.wire import WireClient
    from ui.settings import ClientSettings
    from ui.tk.app import App
    names = {"en": ("alice", "teacher"), "zh": ("小明", "李老师")}[lang]
    phones = {"en": ("13900000011", "13900000012"), "zh": ("13900000013", "13900000014")}[lang]
    password = "chatroom 2026"
    me_user = register(srv, names[0], phones[0], password)
    other_user = register(srv, names[1], phones[1], password)
    me = App(tk.Tk(), ClientSettings(server="127.0.0.1:%d" % srv.auth, last_login=names[0]),
             lang, os.path.join(tmp, "cfg-inspector-%s.json" % lang), chaos=Chaos(8))
    me.root.geometry("700x480+16+16")
    me.login_view.login.set(me_user["username"])
    me.login_view.password.set(password)
    me.open_inspector()  # before the login, so its frames are in the table (masked)
    me.inspector_view.window.geometry("1040x600+220+170")
    me.login_view.submit_button.invoke()
    pump([me], until=lambda: me.chat is not None and me.session.state == "online")
    lines = {"en": ["Good morning! Lab 2 today: --chaos.", "Watch the Reads column.",
                    "The frames still arrive whole."],
             "zh": ["早上好！今天做实验 2：--chaos。", "注意看“读取”这一列。",
                    "帧仍然完整到达。"]}[lang]
    with WireClient(srv.chat, chaos_seed=9) as other:
        assert other.request("auth", token=other_user["token"])["status"] == "ok"
        for i, text in enumerate(lines):
            if i % 2:
                me.session.say(text, None)
            else:
                other.request("say", text=text)
            pump([me], until=lambda t=text: t in [e["text"] for e in
                                                  me.chat.conversations.get("", [])])
        notes = os.path.join(tmp, lang, "notes.txt")
        os.makedirs(os.path.dirname(notes), exist_ok=True)
        with open(notes, "wb") as f:
            f.write(b"TCP is a byte stream; the 5-byte header makes it frames.\n" * 40)
        me.files.upload_paths([notes])
        pump([me], until=lambda: all(t.finished for t in me.files.queue.items))
        pump([me], 0.5)
    view = me.inspector_view
    rows = view.tree.get_children()
    pick = [i for i in rows if view.tree.set(i, "op") == "message"][-1]
    view.tree.selection_set(pick)
    view.tree.see(pick)
    pump([me], 0.5)
    me.inspector_view.window.lift()
    pump([me], 0.3)
    name = "inspector-%s.png" % lang
    subprocess.run(["import", "-window", "root", os.path.join(OUT, name)], check=True)
    print("wrote", name)
    me.quit()


if __name__ == "__main__":
    sys.exit(main())
