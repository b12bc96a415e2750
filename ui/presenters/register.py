"""The register form: field hints as the user types (the server's own rules), the SMS code
with its countdown, and the registration itself."""
from __future__ import annotations

import time
from typing import Any, Callable, Dict, Optional, Protocol, Tuple

from net.rules import check_email, check_password, check_phone, check_username
from ui.presenters.common import Shell, status_text
from ui.session import Session, retry_after_s

CODE_COUNTDOWN_S = 60
# The field a refused registration is about: the server's answer is shown beside it, where
# a ✓ may have said the value was fine (issue 20: a taken username looked valid).
FIELD_OF_STATUS = {"username_taken": "username", "bad_username": "username",
                   "phone_taken": "phone", "bad_phone": "phone", "bad_code": "code",
                   "bad_password": "password", "bad_email": "email"}


class RegisterView(Protocol):
    def values(self) -> Dict[str, str]:
        """username, password, confirm, phone, code, email as typed."""

    def set_hint(self, field: str, key: str, ok: Optional[bool]) -> None:
        """The hint beside a field: key is its catalog key; ok None when nothing is typed."""

    def set_code_visible(self, visible: bool) -> None: ...

    def set_send_code(self, enabled: bool, text: str) -> None: ...

    def set_busy(self, busy: bool) -> None: ...

    def show_error(self, text: str) -> None: ...

    def show_info(self, text: str) -> None: ...


class RegisterPresenter:
    """The window may close before a reply arrives (close()): a late reply then shows nothing."""

    FIELDS = ("username", "password", "confirm", "phone", "code", "email")

    def __init__(self, app: Shell, session: Session, view: Optional[RegisterView] = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.session = session
        self.view = view
        self.tr = app.tr
        self.clock = clock
        self.code_until = 0.0
        self.sms = "console"
        # (field, value) pairs the server refused: shown as refused while typed again
        self.refused: Dict[Tuple[str, str], str] = {}

    def attach(self, view: RegisterView) -> None:
        self.view = view

    def close(self) -> None:
        self.view = None

    def start(self) -> None:
        def got(reply: Dict[str, Any]) -> None:
            if self.view is None:
                return
            if reply.get("status") == "ok":
                self.sms = reply.get("sms", "console")
                self.view.set_code_visible(self.sms != "off")
                self.check("code")
                if self.sms == "console":  # issue 20: the demo never said where the code is
                    self.view.show_info(self.tr("register.code_console"))
            else:
                self.view.show_error(status_text(self.tr, reply))
        for name in self.FIELDS:
            self.view.set_hint(name, "hint." + name, None)
        self.session.hello(got)

    def check(self, name: str) -> bool:
        """Validate one field as the user types; the same rules as the server."""
        values = self.view.values()
        value = values.get(name, "")
        if name == "confirm":
            ok = value == values.get("password") and value != ""
            hint = "hint.ok" if ok else ("hint.confirm_mismatch" if value else "hint.confirm")
        elif name == "code":
            ok = value.isdigit() and len(value) == 6
            hint = "hint.ok" if ok else (
                "register.hint_console" if self.sms == "console" and not value else "hint.code")
        else:
            checker = {"username": check_username, "password": check_password,
                       "phone": check_phone, "email": check_email}[name]
            ok = checker(value) is None
            hint = "hint.ok" if ok else "hint." + name
        refused = self.refused.get((name, value.casefold() if name == "username" else value))
        if ok and refused is not None:
            ok, hint = False, "error." + refused
        shown_ok: Optional[bool] = ok if (value or name == "email") else None
        self.view.set_hint(name, hint, shown_ok)
        return ok

    def send_code(self) -> None:
        if not self.check("phone"):
            return
        self.view.set_send_code(False, self.tr("register.send_code"))

        def done(reply: Dict[str, Any]) -> None:
            if self.view is None:
                return
            if reply.get("status") == "ok":
                self.view.show_info(self.tr("register.code_sent") + (
                    " " + self.tr("register.code_console") if self.sms == "console" else ""))
                self.code_until = self.clock() + (retry_after_s(reply) or CODE_COUNTDOWN_S)
            elif reply.get("status") == "rate_limited":
                # the countdown on the button says when another code may be asked for
                self.code_until = self.clock() + (retry_after_s(reply) or CODE_COUNTDOWN_S)
                self.view.show_error(status_text(self.tr, reply))
            else:
                self.view.set_send_code(True, self.tr("register.send_code"))
                self.view.show_error(status_text(self.tr, reply))
        self.session.send_code(self.view.values()["phone"], done)

    def tick(self) -> None:
        """Once a second or so: the countdown on the send-code button."""
        if self.code_until and self.view is not None:
            left = int(self.code_until - self.clock() + 0.999)
            if left > 0:
                self.view.set_send_code(False, self.tr("register.resend_in", n=left))
            else:
                self.code_until = 0.0
                self.view.set_send_code(True, self.tr("register.send_code"))

    def submit(self) -> None:
        names = [n for n in self.FIELDS if n != "code" or self.sms != "off"]
        results = [self.check(n) for n in names]
        if not all(results):
            # an empty field's hint is grey, not red: say which one stops the registration
            first = names[results.index(False)]
            self.view.show_error(self.tr("register.fix_first",
                                         field=self.tr("register." + first)))
            return
        v = self.view.values()
        self.view.set_busy(True)

        def done(reply: Dict[str, Any]) -> None:
            if self.view is None:
                return
            self.view.set_busy(False)
            status = reply.get("status", "")
            if status == "ok":
                self.app.registered(v["username"])
                return
            self.view.show_error(status_text(self.tr, reply))
            field = FIELD_OF_STATUS.get(status)
            if field is not None:  # the server's answer beside the field it is about
                value = v.get(field, "")
                self.refused[(field, value.casefold() if field == "username" else value)] = \
                    status
                self.check(field)
        self.session.register(v["username"], v["password"], v["phone"],
                              v.get("code", "") if self.sms != "off" else "",
                              v.get("email", ""), done)

    def cancel(self) -> None:
        """The user leaves without registering."""
        self.app.close_register()
