"""Find servers in the login window, without a display: the login presenter with a fake view
and a fake round of discovery, and the words of the trust dialog when discovery announced a
fingerprint (docs/PROTOCOL.md §14)."""
import pytest

from net.discovery import Found
from tests.test_presenters import FakeApp, Recorder
from ui.i18n import Catalog
from ui.presenters.common import trust_question
from ui.presenters.login import LoginPresenter

FINGERPRINT = "ab" * 32


def found(name, host="10.0.0.1", port=9999, tls=False, users=0):
    return Found(name, host, port, port - 1, port - 11, tls, FINGERPRINT if tls else None,
                 users)


class FakeSearch:
    """A round of discovery: answers are handed in with arrive(), the time ends with end()."""

    def __init__(self, sent=2, errors=()):
        self.sent = sent
        self.errors = list(errors)
        self.done = sent == 0
        self.found = []
        self._new = []
        self.closed = False

    def arrive(self, *servers):
        self._new.extend(servers)

    def end(self):
        self.done = True

    def poll(self):
        new, self._new = self._new, []
        self.found = sorted(self.found + new, key=lambda f: f.label.casefold())
        return new

    def close(self):
        self.closed = True
        self.done = True


class DiscoveringApp(FakeApp):
    def __init__(self, search=None, error=None):
        super().__init__()
        self.searches = []
        self.next_search = search
        self.error = error

    def discover(self):
        if self.error is not None:
            raise self.error
        search = self.next_search or FakeSearch()
        self.next_search = None
        self.searches.append(search)
        return search


def login(app=None):
    app = app or DiscoveringApp()
    view = Recorder(fields=("", "alice", "pw"))
    return app, view, LoginPresenter(app, view)


def test_find_servers_lists_what_answers_and_says_how_many():
    app, view, presenter = login()
    presenter.find_servers()
    assert view.last("show_servers") == ([],)
    assert view.last("set_searching") == (True,)
    assert view.last("show_info") == ("Looking for servers on the local network…",)
    search = app.searches[0]
    search.arrive(found("Room 204", users=12))
    presenter.poll()
    assert view.last("show_servers") == ([("Room 204", "10.0.0.1:9999", "12", False)],)
    search.arrive(found("Lab B", "10.0.0.2", 9000, tls=True))
    presenter.poll()
    assert view.last("show_servers") == ([("Lab B", "10.0.0.2:9000", "0", True),
                                          ("Room 204", "10.0.0.1:9999", "12", False)],)
    assert view.last("set_searching") == (True,)
    search.end()
    presenter.poll()
    assert view.last("set_searching") == (False,)
    assert view.last("show_info") == ("2 found. Pick one to use its address.",)
    presenter.poll()  # the round is over: nothing more happens
    assert view.count("set_searching") == 2


def test_a_second_click_while_searching_starts_nothing():
    app, view, presenter = login()
    presenter.find_servers()
    presenter.find_servers()
    assert len(app.searches) == 1
    app.searches[0].end()
    presenter.poll()
    presenter.find_servers()  # a new round once the first is over
    assert len(app.searches) == 2


def test_no_answer_is_said_and_the_address_can_still_be_typed():
    app, view, presenter = login()
    presenter.find_servers()
    app.searches[0].end()
    presenter.poll()
    assert "No server answered" in view.last("show_error")[0]


def test_probes_that_could_not_be_sent_are_explained():
    app = DiscoveringApp(FakeSearch(sent=0, errors=["255.255.255.255:9999: Network is "
                                                    "unreachable"]))
    app, view, presenter = login(app)
    presenter.find_servers()
    assert view.last("show_error") == ("Cannot look for servers: 255.255.255.255:9999: "
                                       "Network is unreachable",)
    assert view.last("set_searching") == (False,)


def test_no_udp_socket_at_all_is_explained():
    app, view, presenter = login(DiscoveringApp(error=OSError(24, "Too many open files")))
    presenter.find_servers()
    assert "Cannot look for servers" in view.last("show_error")[0]
    assert presenter.search is None


def test_picking_a_server_fills_the_server_field():
    app, view, presenter = login()
    presenter.find_servers()
    app.searches[0].arrive(found("Room 204", "10.0.0.1", 9999),
                           found("Lab B", "10.0.0.2", 9000, tls=True))
    presenter.poll()
    presenter.pick(1)
    assert view.last("set_server") == ("10.0.0.1:9999",)
    assert view.last("show_info") == ("",)
    presenter.pick(0)
    assert view.last("set_server") == ("10.0.0.2:9000",)
    assert "Lab B encrypts its connections" in view.last("show_info")[0]
    presenter.pick(5)  # a stale index changes nothing
    assert view.count("set_server") == 2


def test_discovered_tells_the_app_what_was_announced_for_an_address():
    app, view, presenter = login()
    presenter.find_servers()
    app.searches[0].arrive(found("Lab B", "10.0.0.2", 9000, tls=True))
    presenter.poll()
    assert presenter.discovered(("10.0.0.2", 9000)).fingerprint == FINGERPRINT
    assert presenter.discovered(("10.0.0.2", 9001)) is None
    assert presenter.discovered(("10.0.0.3", 9000)) is None


def test_the_picked_server_is_the_one_logged_in_to():
    app, view, presenter = login()
    presenter.find_servers()
    app.searches[0].arrive(found("Room 204", "10.0.0.9", 9100))
    presenter.poll()
    presenter.pick(0)
    view.returns["fields"] = (view.last("set_server")[0], "alice", "pw")
    presenter.submit()
    assert app.connected == ("10.0.0.9", 9100)


def test_closing_the_login_window_stops_the_round():
    app, view, presenter = login()
    presenter.find_servers()
    presenter.close()
    assert app.searches[0].closed and presenter.search is None
    presenter.poll()  # harmless afterwards


# -- the trust dialog -------------------------------------------------------------------------

REAL = ":".join(["AB"] * 32)


def test_trust_question_without_discovery_is_unchanged():
    text = trust_question(Catalog("en"), "10.0.0.2:9000", REAL)
    assert text.startswith("The server 10.0.0.2:9000 presents")
    assert "announced" not in text


@pytest.mark.parametrize("lang, words", [("en", "announced this same fingerprint"),
                                         ("zh", "公布的指纹与此相同")])
def test_trust_question_says_the_announced_fingerprint_matches_and_still_asks(lang, words):
    text = trust_question(Catalog(lang), "10.0.0.2:9000", REAL, "ab" * 32)
    assert words in text
    assert ("Trust this server from now on?" in text) or ("以后都信任这个服务器吗" in text)


def test_trust_question_warns_when_the_announced_fingerprint_differs():
    text = trust_question(Catalog("en"), "10.0.0.2:9000", REAL, "cd" * 32)
    assert "DIFFERENT fingerprint" in text
    assert ":".join(["CD"] * 8) in text  # shown in full, in lines of eight pairs
    assert "Trust this server from now on?" in text
