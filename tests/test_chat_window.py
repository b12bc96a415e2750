"""The chat window's presenter without a display (issue 20): loading older messages, the
recipient bar, dates and grouping, the "new messages" line, @mentions, links and code,
pasting, refusals that say why, the online list while disconnected, text size and theme."""
import time

from tests.test_presenters import FakeApp, Recorder, message
from ui.presenters.chat import (
    GROUP_WITHIN_S,
    MAX_VIEW_MESSAGES,
    PUBLIC,
    ChatPresenter,
    looks_binary,
    message_parts,
)
from ui.presenters.preferences import Preferences, PreferencesPresenter

DAY_S = 24 * 3600


def make_chat(me="me"):
    view = Recorder()
    app = FakeApp()
    app.session.username = me
    presenter = ChatPresenter(app, app.session, view)
    return presenter, view


def at(msg_id, ts, sender="bob", to=None, text="hi"):
    event = message(msg_id, sender, to, text)
    event["ts"] = ts
    return event


def shown(view, name):
    return [args for n, args in view.calls if n == name]


# -- 1. load older ---------------------------------------------------------------------------

def test_load_older_in_the_lobby_asks_for_the_lobby_only_and_keeps_private_ones_out():
    presenter, view = make_chat()
    presenter.on_welcome({"online": [], "history": [message(10), message(11, "amy")]})
    presenter.load_older()
    # The lobby, as a room: without it the page is the lobby's and our private messages.
    assert presenter.session.requests[-1] == ("history", 10, None, "lobby only")
    # Even a server that sends private ones: they do not go under "Everyone".
    presenter.session.history_callback({"status": "ok", "messages": [
        message(7, "amy"), message(8, "bob", "me", "secret"), message(9, "amy")]})
    assert [e["msg_id"] for e in presenter.conversations[PUBLIC]] == [7, 9, 10, 11]
    assert "secret" not in [e["text"] for e in view.last("prepend_entries")[0]]
    assert 8 not in presenter.seen  # still new to bob's conversation when it is loaded


def test_load_older_in_a_private_conversation_asks_for_that_conversation():
    presenter, view = make_chat()
    presenter.on_message(message(20, "bob", "me", "psst"))
    presenter.switch_to("bob")
    presenter.load_older()
    assert presenter.session.requests[-1] == ("history", 20, "bob")


def test_loaded_messages_are_prepended_in_order_each_with_its_own_sender_and_time():
    presenter, view = make_chat()
    base = presenter.session.now - 300
    presenter.on_welcome({"online": [], "history": [at(10, base + 200, "amy", text="ten")]})
    presenter.load_older()
    presenter.session.history_callback({"status": "ok", "messages": [
        at(8, base, "bob", text="eight"), at(9, base + 60, "cat", text="nine")]})
    older = view.last("prepend_entries")[0]
    assert [(e["who"], e["text"], e["header"]) for e in older] == [
        ("bob", "eight", True), ("cat", "nine", True)]
    assert older[0]["time"] == time.strftime("%H:%M", time.localtime(base))


def test_no_older_messages_is_a_note_not_an_error():
    presenter, view = make_chat()
    presenter.on_welcome({"online": [], "history": [message(10)]})
    presenter.load_older()
    presenter.session.history_callback({"status": "ok", "messages": []})
    assert view.last("show_info") == ("No older messages",)
    assert view.count("show_error") == 0


# -- 2. recipient ----------------------------------------------------------------------------

def test_the_recipient_bar_says_who_receives_and_marks_private_ones():
    presenter, view = make_chat()
    presenter.on_welcome({"online": [], "history": [],
                          "rooms": [{"room": 1, "name": "lobby"},
                                    {"room": 7, "name": "physics", "members": 2}]})
    presenter.switch_to(PUBLIC)
    assert view.last("set_recipient") == ("To: everyone", False)
    presenter.switch_to("room 7")
    assert view.last("set_recipient") == ("To: room physics", False)
    presenter.open_private("bob")
    assert view.last("set_recipient") == ("Private: bob", True)


# -- 10. dates -------------------------------------------------------------------------------

def test_a_divider_where_the_day_changes_and_the_full_date_on_every_message():
    presenter, view = make_chat()
    today = time.mktime(time.localtime(presenter.session.wall())[:3] + (12, 0, 0, 0, 0, -1))
    presenter.session.now = today
    presenter.on_welcome({"online": [], "history": [
        at(1, today - 2 * DAY_S, "amy"), at(2, today - 2 * DAY_S + 60, "bob"),
        at(3, today, "amy")]})
    entries = presenter.conversations[PUBLIC]
    yesterday_but_one = time.localtime(today - 2 * DAY_S)
    assert str(yesterday_but_one.tm_year) in entries[0]["day"]  # not today: dated
    assert entries[1]["day"] == ""  # the same day
    assert entries[2]["day"] and entries[2]["day"] != entries[0]["day"]
    assert entries[0]["when"].startswith(entries[0]["day"])
    assert entries[0]["when"].endswith(time.strftime("%H:%M:%S", yesterday_but_one))


def test_dates_read_naturally_in_both_languages():
    presenter, _ = make_chat()
    moment = time.localtime(time.mktime((2025, 11, 26, 9, 5, 0, 0, 0, -1)))
    from ui.presenters.chat import date_text
    assert date_text(presenter.tr, moment) == "Wednesday 26 November 2025"
    presenter.tr.language = "zh"
    assert date_text(presenter.tr, moment) == "2025年11月26日 星期三"


# -- grouping, the new-messages line, mentions -------------------------------------------------

def test_consecutive_messages_of_one_sender_share_a_header():
    presenter, view = make_chat()
    t = presenter.session.now
    for event in (at(1, t, "bob"), at(2, t + 30, "bob"), at(3, t + 40, "amy"),
                  at(4, t + 50 + GROUP_WITHIN_S, "amy"), at(5, t + 60 + GROUP_WITHIN_S, "amy",
                                                            "me")):
        presenter.on_message(event)
    headers = {e["msg_id"]: e["header"] for c in presenter.conversations.values() for e in c}
    # 2 continues bob's 1; amy's 4 came long after her 3; 5 is private, a conversation
    # of its own.
    assert headers == {1: True, 2: False, 3: True, 4: True, 5: True}


def test_trimming_redraws_a_first_message_that_lost_its_header():
    presenter, view = make_chat()
    for i in range(1, MAX_VIEW_MESSAGES + 2):
        presenter.on_message(message(i))
    first = presenter.conversations[PUBLIC][0]
    assert first["header"] is True
    assert view.last("drop_oldest") == (2,)
    assert view.last("prepend_entries")[0] == [first]


def test_the_new_messages_line_goes_before_the_first_unseen_message_and_moves_on():
    presenter, view = make_chat()
    presenter.on_message(message(1))
    presenter.focus_changed(False)
    presenter.on_message(message(2))
    presenter.on_message(message(3))
    kinds = [e["kind"] for e in presenter.conversations[PUBLIC]]
    assert kinds == ["other", "marker", "other", "other"]
    presenter.focus_changed(True)
    presenter.on_message(message(4))  # seen as it comes: no line
    presenter.viewing_latest(False)  # the user scrolls up to read
    presenter.on_message(message(5))
    kinds = [e["kind"] for e in presenter.conversations[PUBLIC]]
    assert kinds == ["other", "other", "other", "other", "marker", "other"]
    assert view.last("remove_entry") == (1,)


def test_a_mention_is_highlighted_and_alerts_from_another_conversation():
    presenter, view = make_chat("alice")
    presenter.on_message(message(1, "bob", None, "hello @Alice, see this"))
    entry = presenter.conversations[PUBLIC][0]
    assert entry["mention"] and ("mention", "@Alice") in entry["parts"]
    assert view.count("alert") == 0  # focused and shown: no beep
    presenter.switch_to("bob")
    presenter.on_message(message(2, "carol", None, "@alice ping"))
    assert view.count("alert") == 1
    presenter.on_message(message(3, "carol", None, "mail alice@example.com"))
    assert not presenter.conversations[PUBLIC][-1]["mention"] and view.count("alert") == 1
    presenter.focus_changed(False)
    presenter.on_message(message(4, "carol", None, "@alice?"))
    assert view.last("set_title") == ("(1) new, you were mentioned — chatroom",)


# -- links and code ------------------------------------------------------------------------

def test_links_are_found_without_the_sentence_around_them():
    parts = message_parts("see https://example.com/a_(b). and http://x.org/q?x=1, ok", "me")
    assert parts == [("text", "see "), ("link", "https://example.com/a_(b)"),
                     ("text", ". and "), ("link", "http://x.org/q?x=1"), ("text", ", ok\n")]
    assert message_parts("中文https://example.com/中，好", "me") == [
        ("text", "中文"), ("link", "https://example.com/中"), ("text", "，好\n")]


def test_code_blocks_fenced_or_indented_are_whole_lines():
    text = "try this:\n```python\nfor i in range(3):\n    print(i)\n```\nor\n    x = 1\ndone"
    assert message_parts(text, "me") == [
        ("text", "try this:\n"), ("code", "for i in range(3):\n    print(i)\n"),
        ("text", "or\n"), ("code", "x = 1\n"), ("text", "done\n")]
    # what the pieces draw is the message (less the fences and the indent)
    assert "".join(t for _, t in message_parts("plain", "me")) == "plain\n"


# -- 14. pasting -----------------------------------------------------------------------------

def test_a_picture_pasted_as_hex_is_refused_and_long_text_is_cut_to_the_limit():
    presenter, view = make_chat()
    dump = " ".join("0x%02x" % b for b in b"\x89PNG\r\n\x1a\n" * 40)
    assert looks_binary(dump) and not looks_binary("0x10 is sixteen")
    assert presenter.paste(dump, 4000) == ""
    assert "not text" in view.last("show_error")[0]
    assert presenter.paste("x" * 5000, 3990) == "x" * 3990
    assert view.last("show_error") == ("The clipboard held 5000 characters; only what fits in "
                                       "one message (4000) was pasted.",)
    assert presenter.paste("short", 3990) == "short"
    presenter.paste_image()
    assert "Upload file" in view.last("show_error")[0]


# -- 16. refusals, the online list ------------------------------------------------------------

def test_a_too_long_message_stays_and_the_note_says_the_limit():
    presenter, view = make_chat()
    presenter.send("y" * 4001)
    assert presenter.session.requests == []
    assert view.count("clear_input") == 0
    assert view.last("set_draft_note") == (
        "Not sent: 4001 characters, and a message may have at most 4000. Shorten it or "
        "split it; your text is still here.",)


def test_a_flood_refusal_gives_the_text_back_with_the_servers_wait():
    presenter, view = make_chat()
    presenter.send("quick one")
    presenter.session.say_callback({"status": "rate_limited", "retry_after": 3})
    assert view.last("restore_draft") == ("quick one",)
    assert view.last("set_draft_note") == ("You are sending too fast. Try again in 3 s; your "
                                           "message is still here.",)


def test_the_online_list_empties_while_disconnected_and_marks_me():
    presenter, view = make_chat()
    presenter.on_welcome({"online": ["bob", "me"], "history": []})
    assert view.last("mark_self") == ("me",)
    assert view.last("set_online") == (["bob", "me"],)
    presenter.on_state("reconnecting", "2")
    assert view.last("set_online") == ([],)
    assert view.last("set_online_header") == ("Online (not connected)",)
    presenter.on_welcome({"online": ["me"], "history": []})
    assert view.last("set_online") == (["me"],)


# -- preferences -----------------------------------------------------------------------------

def test_text_size_and_theme_are_saved_and_kept_in_range():
    app = FakeApp()
    presenter = PreferencesPresenter(app)
    assert presenter.current().font_size == 10 and presenter.current().theme == "light"
    presenter.save(Preferences("en", "h:1", "/tmp", True, "14", "dark"))
    assert app.remembered["font_size"] == 14 and app.remembered["theme"] == "dark"
    presenter.save(Preferences("en", "h:1", "/tmp", True, "99", "purple"))
    assert app.remembered["font_size"] == 20 and app.remembered["theme"] == "light"
