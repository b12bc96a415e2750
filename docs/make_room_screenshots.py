"""Regenerate docs/screenshots/rooms-{en,zh}.png: the chat window with its room list
(docs/PROTOCOL.md §12): the lobby, two rooms and a private conversation with their unread
counts, a room's topic above its messages, and an invitation with its Join button. Then
rooms-new-{en,zh}.png: the "New room…" dialog filled in, and rooms-browse-{en,zh}.png: the
"Browse rooms" dialog with a joined, an invited and an open room.

    python docs/make_room_screenshots.py

Xvfb (unless DISPLAY is set), openbox for the window frame, a throw-away server, the real
client, and `import -window root` (the helpers of docs/make_screenshots.py). Needs xvfb,
openbox and imagemagick.
"""
from __future__ import annotations

import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "docs"))

from make_screenshots import (  # noqa: E402  (after the path is set)
    bring_to_front,
    pump,
    screen,
    shoot_screen_area,
    wire_user,
)

PASSWORD = "chatroom 2026"
SCENE = {
    "en": {"names": ("ming", "hong", "gang"),
           "physics": ("physics club", "optics this week: bring a torch"),
           "project": "project A", "study": "study circle",
           "chess": ("chess club", "Tuesdays after class"),
           "new": ("astronomy", "star party on Saturday night"),
           "lines": [("hong", "physics", "Who has the prism from the lab?"),
                     ("ming", "physics", "I do, I'll bring it on Friday."),
                     ("hong", "physics", "Great: we meet in room 204 at 4."),
                     ("hong", "project", "Slides are in the shared folder."),
                     ("gang", "lobby", "Good morning everyone!"),
                     ("gang", "lobby", "Is the library open today?"),
                     ("hong", "private", "Can you check my draft tonight?")]},
    "zh": {"names": ("小明", "小红", "小刚"),
           "physics": ("物理兴趣小组", "本周主题：光学，记得带手电筒"),
           "project": "项目组 A", "study": "学习小组",
           "chess": ("象棋社", "每周二放学后"),
           "new": ("天文小组", "周六晚上观星"),
           "lines": [("hong", "physics", "实验室的三棱镜在谁那里？"),
                     ("ming", "physics", "在我这儿，周五带过来。"),
                     ("hong", "physics", "好，下午四点在 204 教室见。"),
                     ("hong", "project", "幻灯片放在共享文件夹里了。"),
                     ("gang", "lobby", "大家早上好！"),
                     ("gang", "lobby", "今天图书馆开门吗？"),
                     ("hong", "private", "今晚能帮我看看草稿吗？")]},
}


def shoot_rooms(lang: str, tmp: str) -> None:
    import tkinter as tk

    from tests.procs import ServerProc
    from ui.settings import ClientSettings
    from ui.tk.app import App
    scene = SCENE[lang]
    ming, hong, gang = scene["names"]
    srv = ServerProc(os.path.join(tmp, "rooms-" + lang), "--flood-limit", "0")
    wires = []
    try:
        base = 30 if lang == "zh" else 40
        phones = {name: "1370000%04d" % (base + n) for n, name in enumerate(scene["names"])}
        for name in (hong, gang):
            wires.append(wire_user(srv, name, phones[name], PASSWORD))
        (hong_chat, _), (gang_chat, _) = wires
        # ming registers over the wire too, then logs in through the window.
        with_files = wire_user(srv, ming, phones[ming], PASSWORD)
        for conn in with_files:
            conn.close()
        settings = ClientSettings(server="127.0.0.1:%d" % srv.auth)
        app = App(tk.Tk(), settings, lang, os.path.join(tmp, "cfg-rooms-" + lang + ".json"))
        app.root.geometry("900x560+40+40")
        app.login_view.login.set(ming)
        app.login_view.password.set(PASSWORD)
        app.login_view.submit_button.invoke()
        pump([app], until=lambda: app.chat is not None and app.session.state == "online")

        name, topic = scene["physics"]
        physics = hong_chat.request("create_room", name=name, topic=topic)["room"]["room"]
        app.chat.join_room(physics)
        pump([app], until=lambda: physics in app.chat.rooms)
        app.chat.create_room(scene["project"], "", True)
        pump([app], until=lambda: len(app.chat.rooms) == 2)
        project = [r for r in app.chat.rooms if r != physics][0]
        app.chat.switch_to("room %d" % project)
        app.chat.invite(hong)
        pump([app], seconds=0.3)
        assert hong_chat.request("join", room=project)["status"] == "ok"
        app.chat.switch_to("room %d" % physics)
        rooms = {"physics": physics, "project": project}
        for who, where, text in scene["lines"]:
            if who == "ming":
                app.chat_view.input.insert("1.0", text)
                app.chat_view.send_button.invoke()
                pump([app], seconds=0.2)
                continue
            chat = hong_chat if who == "hong" else gang_chat
            if where == "private":
                reply = chat.request("say", text=text, to=ming)
            elif where == "lobby":
                reply = chat.request("say", text=text)
            else:
                reply = chat.request("say", text=text, room=rooms[where])
            assert reply["status"] == "ok", reply
        study = gang_chat.request("create_room", name=scene["study"], private=True)
        assert gang_chat.request("invite", room=study["room"]["room"],
                                 user=ming)["status"] == "ok"
        pump([app], until=lambda: app.chat_view.invitations)
        pump([app], seconds=0.5)
        bring_to_front(app.root)
        shoot_screen_area(app.root, "rooms-%s.png" % lang)
        shoot_room_dialogs(app, scene, gang_chat, lang)
        app.quit()
    finally:
        for chat, files in wires:
            chat.close()
            files.close()
        srv.stop()


def shoot_room_dialogs(app, scene, gang_chat, lang: str) -> None:
    """"New room…" filled in (not created), then "Browse rooms" with an open room too."""
    from ui.tk.rooms import RoomListDialog
    view = app.chat_view
    dialog = view.open_new_room()
    name, topic = scene["new"]
    dialog.name.insert(0, name)
    dialog.topic.insert(0, topic)
    dialog.private_var.set(True)
    pump([app], seconds=0.3)
    bring_to_front(dialog.window)
    shoot_screen_area(dialog.window, "rooms-new-%s.png" % lang)
    dialog.close()

    name, topic = scene["chess"]
    reply = gang_chat.request("create_room", name=name, topic=topic)
    assert reply["status"] == "ok", reply
    app.chat.browse_rooms()
    pump([app], until=lambda: isinstance(view.dialog, RoomListDialog) and
         view.dialog.exists() and len(view.dialog.ids) >= 4)
    pump([app], seconds=0.3)
    bring_to_front(view.dialog.window)
    shoot_screen_area(view.dialog.window, "rooms-browse-%s.png" % lang)
    view.dialog.close()


def main() -> int:
    if not shutil.which("import"):
        print("needs ImageMagick's `import` (apt install imagemagick)")
        return 2
    with screen("1280x800") as tmp:
        for lang in ("en", "zh"):
            shoot_rooms(lang, tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
