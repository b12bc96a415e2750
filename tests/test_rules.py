"""net/rules.py at the boundaries of docs/PROTOCOL.md §4-§6."""
import pytest

from net import rules


@pytest.mark.parametrize("name,ok", [
    ("a", True), ("x" * 20, True), ("x" * 21, False), ("", False), ("a b", False),
    ("a\tb", False), ("a\x00", False), ("12345", False), ("1234a", True), ("小明", True),
    ("e\u0301" * 10, True),  # 20 code points, but 10 after NFC
    ("a\u3000b", False), ("😀", True)])
def test_username(name, ok):
    assert (rules.check_username(name) is None) is ok


def test_username_key_folds_case_and_normalizes():
    assert rules.username_key("ALICE") == rules.username_key("alice")
    assert rules.username_key("e\u0301") == rules.username_key("\u00e9")


@pytest.mark.parametrize("pw,ok", [
    ("abcdefg1", True), ("abcdef1", False), ("a" * 63 + "1", True), ("a" * 64 + "1", False),
    ("12345678", False), ("abcdefgh", False), ("pass word 1", True), ("密码密码密码密码1", True),
    ("abcdefg١", False)])  # Arabic-Indic digit is not an ASCII digit
def test_password(pw, ok):
    assert (rules.check_password(pw) is None) is ok


@pytest.mark.parametrize("phone,ok", [
    ("13800138000", True), ("19912345678", True), ("12800138000", False), ("1380013800", False),
    ("138001380001", False), ("2380013800a", False), ("13800138000\n", False)])
def test_phone(phone, ok):
    assert (rules.check_phone(phone) is None) is ok


@pytest.mark.parametrize("email,ok", [
    ("", True), ("a@b.cn", True), ("a.b@c.d.e", True), ("a@b", False), ("@b.cn", False),
    ("a b@c.cn", False), ("a@@b.cn", False), ("x" * 248 + "@bb.cn", True),
    ("x" * 249 + "@bb.cn", False)])  # 254 and 255 characters
def test_email(email, ok):
    assert (rules.check_email(email) is None) is ok


@pytest.mark.parametrize("text,ok", [
    ("hi", True), ("", False), ("   ", False), ("\n\t", False), ("a\nb\tc", True),
    ("a\x07", False), ("x" * 4000, True), ("x" * 4001, False), ("😀" * 4000, True)])
def test_text(text, ok):
    assert (rules.check_text(text) is None) is ok


@pytest.mark.parametrize("name,ok", [
    ("a.txt", True), ("dir/sub/a.txt", True), ("/etc/passwd", False), ("../x", False),
    ("a/../b", False), ("a/./b", False), ("a//b", False), ("a/", False), ("a\\b", False),
    ("a\x00b", False), ("a\nb", False), ("", False), ("x" * 255, True), ("x" * 256, False),
    ("/".join(["x" * 200] * 5), True), ("/".join(["x" * 200] * 6), False), ("..a", True),
    ("作业/第一周.pdf", True), ("\ud800", False)])
def test_file_name(name, ok):
    assert (rules.check_file_name(name) is None) is ok


def test_check_text_refuses_exactly_the_control_characters_but_newline_and_tab():
    """The regex in net/rules.py against Unicode's own Cc category, over every code point."""
    import unicodedata

    from net.rules import check_text
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        control = ch not in "\n\t" and unicodedata.category(ch) == "Cc"
        assert (check_text("a" + ch) is not None) == control, hex(cp)
