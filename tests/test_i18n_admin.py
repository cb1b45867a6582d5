"""Issue 18 part C: what an admin reads, in Russian and in English, over the Bot API emulator.

The admin panel, /pool, /health, /checksessions (stored keys worded for the reader), an upload with
its results (accepted, refused, waiting for an API pair), one flushed at shutdown (in the uploader's
language though no handler runs then), "Usage:" said once, no internal bound shown; and the command line,
which reads no locale, printing exactly the English it always printed.

Expected texts are rendered with ``in_locale`` (never copied), plus a few literal Russian spot checks so
that a wrong catalog cannot pass by construction.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from control_bot.cli import main
from control_bot.routers import admin_upload
from control_bot.services import admin as admin_service
from core.errors import SESSION_FILE_MISSING, SESSION_GONE, SESSION_NO_PAIR, SESSION_NO_PROXY
from core.texts import admin as at
from core.texts import intake as it
from core.texts import joins as jt
from core.texts import limits as lt
from core.texts import pairs as pairs_texts
from core.texts import proxy as pt
from core.texts import tdata as td
from core.texts.fmt import esc
from pool import health as pool_health
from pool import joins as pool_joins
from pool.status import pool_status
from sandbox.sessionfiles import make_session_bytes, make_session_file, make_sidecar
from sandbox.tdata import FAST_ARGON2, TAccount, make_tdata, zip_tdata
from storage import joins as join_rows
from storage import sessions as session_rows
from tests.botkit import ADMIN_ID, Harness, Player, bot_harness, in_locale

LANGS = ["en", "ru"]
HASH = "0123456789abcdef0123456789abcdef"
GOLDEN = Path(__file__).with_name("cli_golden_admin.json")


@pytest.fixture(autouse=True)
def quick_uploads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(admin_upload, "DEBOUNCE", 0.2)


def make_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


@dataclass(frozen=True)
class File:
    filename: str
    session_id: int | None = None
    reason: str | None = None
    note: str | None = None
    waiting: bool = False
    lacks: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
    accepted: list[File] = field(default_factory=list)
    rejected: list[File] = field(default_factory=list)
    free_after: int = 0


def admin(h: Harness, lang: str) -> Player:
    return h.user(ADMIN_ID, "Admin", language_code=lang)


# --- the panel, /pool, /health ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
async def test_admin_panel_and_its_buttons_in_the_admins_language(tmp_path: Path, lang: str) -> None:
    async with bot_harness(tmp_path) as h:
        reply = await admin(h, lang).ask("/admin")
        with in_locale(lang):
            assert reply.html == at.admin_panel()
            buttons = [at.BTN_ADMIN_POOL(), at.BTN_ADMIN_PAIRS(), at.BTN_ADMIN_CUSTOMERS(), at.BTN_ADMIN_HEALTH()]
        labels = [label for row in reply.buttons for label in row]
        assert all(b in labels for b in buttons), labels
        if lang == "ru":
            assert "Панель администратора" in reply.text and "📦 Пул" in labels
            assert all(len(label) <= 24 for label in labels)
        else:
            assert "Admin panel" in reply.text and "📦 Pool" in labels


@pytest.mark.parametrize("lang", LANGS)
async def test_pool_screen_in_the_admins_language(tmp_path: Path, lang: str) -> None:
    async with bot_harness(tmp_path) as h:
        await h.fill_pool(3)
        reply = await admin(h, lang).ask("/pool")
        status = await pool_status(h.db)
        with in_locale(lang):
            assert reply.html == at.pool_status(status)
        if lang == "ru":
            assert "Пул сессий" in reply.text and "Свободно: 3" in reply.text
        else:
            assert "Session pool" in reply.text and "Free (unused): 3" in reply.text


@pytest.mark.parametrize("lang", LANGS)
async def test_health_in_the_admins_language(tmp_path: Path, lang: str) -> None:
    async with bot_harness(tmp_path) as h:
        await h.fill_pool(2)
        reply = await admin(h, lang).ask("/health")
        lines = reply.html.splitlines()
        report = await admin_service.health_report(h.db, None, h.clock.now(), h.settings)
        with in_locale(lang):  # what reads the same whenever it is asked: the pool, proxies and limits
            assert report.limits is not None and report.proxies is not None
            steady = [esc(line) for line in lt.health_lines(report.limits)]
            steady += pt.health_lines(report.proxies, html=True)
        assert all(line in lines for line in steady), (steady, lines)
        if lang == "ru":
            assert lines[0] == "🩺 <b>Состояние</b>"
            assert any(line.startswith("Пул: свободно 2") for line in lines), lines
            assert any(line.startswith("Прокси (необязательны)") for line in lines), lines
            assert any(line.startswith("Темп: циклы каждые") for line in lines), lines
            assert not any("Pool:" in line or "Last hour" in line for line in lines), lines
        else:
            assert lines[0] == "🩺 <b>Health</b>"
            assert any(line.startswith("Pool: 2 free") for line in lines), lines
            assert any(line.startswith("Pacing: cycles every") for line in lines), lines


@pytest.mark.parametrize("lang", LANGS)
async def test_a_check_shows_a_stored_key_in_words_of_the_reader(tmp_path: Path, lang: str) -> None:
    """A session whose file is gone: the check keeps a key (never words) and the screen words it."""
    async with bot_harness(tmp_path) as h:
        await h.fill_pool(1)
        async with h.db.read() as conn:
            [row] = await session_rows.list_all(conn)
        (h.settings.paths.sessions_dir / row.folder / row.file_name).unlink()
        player = admin(h, lang)
        await player.user.say("/checksessions")
        await player.user.wait_reply()  # "checking…"
        reply = await player.user.wait_reply()
        with in_locale(lang):
            words = at.check_detail(SESSION_FILE_MISSING)
            label = at.check_label("error")
        assert words != SESSION_FILE_MISSING and SESSION_FILE_MISSING not in reply.text
        assert f"#{row.id}: {words}" in reply.html and label in reply.html
        if lang == "ru":
            assert "её файла нет в папке" in reply.text


@pytest.mark.parametrize("lang", LANGS)
def test_every_stored_key_has_words(lang: str) -> None:
    """Each key the pool stores is worded, in both languages (never shown as the key)."""
    with in_locale(lang):
        for key in (SESSION_NO_PAIR, SESSION_NO_PROXY, SESSION_FILE_MISSING, SESSION_GONE, pool_health.UNUSABLE,
                    pool_health.STATE_CHANGED, pool_health.BUSY):
            assert key not in at.check_detail(key)
        for key in (SESSION_NO_PAIR, SESSION_NO_PROXY, SESSION_FILE_MISSING, SESSION_GONE, pool_joins.UNUSABLE,
                    pool_joins.SESSION_DEAD, pool_joins.FLOOD_WAIT, pool_joins.REQUEST_SENT, pool_joins.TOO_MANY):
            assert key not in jt.reason_text(key)
        for key in ("timeout", "refused:bad auth", "unreachable:Connection refused"):
            assert not pt.check_error_text(key).startswith(key.partition(":")[0])
        # words an older version stored are shown as they are
        assert jt.reason_text("the session is gone") == "the session is gone"
        assert pt.check_error_text("no answer in time") == "no answer in time"


@pytest.mark.parametrize("lang", LANGS)
async def test_joins_show_a_stored_key_in_words_of_the_reader(tmp_path: Path, lang: str) -> None:
    """A join that failed because its session's file is gone keeps the key; /joins words it."""
    async with bot_harness(tmp_path) as h:
        await h.fill_pool(1)
        now = h.clock.now()
        async with h.db.tx() as conn:
            [row] = await session_rows.list_all(conn)
            join_id = await join_rows.add(conn, row.id, "@cats_chat", title=None, requested_by=ADMIN_ID, now=now,
                                          due_at=now)
            await join_rows.finish(conn, join_id, "failed", SESSION_FILE_MISSING, now)
        reply = await admin(h, lang).ask("/joins")
        with in_locale(lang):
            words = jt.reason_text(SESSION_FILE_MISSING)
        assert words in reply.text and SESSION_FILE_MISSING not in reply.text
        if lang == "ru":
            assert "файла сессии нет в её папке" in reply.text and "ошибка" in reply.text


# --- an upload and its results ------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
async def test_an_upload_summary_in_the_uploaders_language(tmp_path: Path, lang: str) -> None:
    async with bot_harness(tmp_path) as h:
        archive = make_zip({
            "good1.session": make_session_bytes(2),
            "good1.json": json.dumps(make_sidecar(api_id=111)).encode(),  # its own app: accepted as is
            "good2.session": make_session_bytes(4),  # no API pair has room: accepted, waits for one
            "bad.session": b"this is not a session file",  # refused
        })
        summary = await admin(h, lang).send_file("upload.zip", archive)
        with in_locale(lang):  # a fresh pool: good1 is session #1 (with its sidecar), good2 #2
            expected = at.upload_summary(Report(
                accepted=[File("upload.zip/good1.session", 1), File("upload.zip/good1.json", 1),
                          File("upload.zip/good2.session", 2, waiting=True,
                               lacks=("pair_room", "sidecar"))],
                rejected=[File("upload.zip/bad.session", reason=it.UNSUPPORTED_TYPE())],
                free_after=2,
            ))
        assert sorted(summary.html.splitlines()) == sorted(expected.splitlines()), summary.html
        if lang == "ru":
            assert "Загрузка: принято 3, отклонено 1" in summary.text
            assert "ждёт API-пару" in summary.text and "не сессия Telethon" in summary.text
        else:
            assert "Upload: accepted 3, rejected 1" in summary.text and "waits for an API pair" in summary.text


async def test_an_upload_flushed_at_shutdown_is_in_the_uploaders_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No handler runs at shutdown: the summary is in the language captured with the first document."""
    monkeypatch.setattr(admin_upload, "DEBOUNCE", 60.0)
    async with bot_harness(tmp_path) as h:
        player = admin(h, "ru")
        await player.user.send_document("late.session", make_session_bytes(3))
        await h.idle()
        assert player.unread() == []
    summaries = [m for m in h.emu.messages(ADMIN_ID) if m.from_bot and "📥" in m.text]
    assert summaries, [m.text for m in h.emu.messages(ADMIN_ID)]
    assert "Загрузка: принято 1, отклонено 0" in summaries[-1].text


# --- usage said once, no internal bound ---------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
async def test_usage_is_said_once(tmp_path: Path, lang: str) -> None:
    word = "Формат:" if lang == "ru" else "Usage:"
    async with bot_harness(tmp_path) as h:
        player = admin(h, lang)
        for command in ("/addpair", "/delpair", "/proxy 2", "/join", "/reach", "/adddefaultgroups"):
            reply = await player.ask(command)
            assert reply.text.count(word) == 1, (command, reply.text)
            assert "Usage: Usage" not in reply.text
        with in_locale(lang):
            assert (await player.ask("/addpair")).text == at.usage(pairs_texts.USAGE_ADDPAIR())


@pytest.mark.parametrize("lang", LANGS)
async def test_ids_beyond_storage_are_refused_without_the_bound(tmp_path: Path, lang: str) -> None:
    huge = "99999999999999999999"
    async with bot_harness(tmp_path) as h:
        player = admin(h, lang)
        replies = {
            "/reach": await player.ask(f"/reach {huge}"),
            "/proxy": await player.ask(f"/proxy {huge} off"),
            "/join": await player.ask(f"/join {huge} @cats_chat"),
            "/join c": await player.ask(f"/join c{huge} @cats_chat"),
        }
        for reply in replies.values():
            assert str(2**63 - 1) not in reply.text and "2^63" not in reply.text
        with in_locale(lang):
            assert replies["/reach"].text == at.not_a_user_id(huge)
            assert replies["/proxy"].text == at.not_a_session_number(huge)
            assert replies["/join"].text == at.not_a_session_number(huge)
            assert replies["/join c"].text == at.not_a_user_id(huge)


# --- the command line: English, exactly as it always printed -------------------------------------------------


def _empty_zip() -> bytes:
    return make_zip({})


def test_cli_output_is_the_english_it_always_was(
    config: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same commands print byte for byte what they printed once the texts were marked (part A's
    commit, ``cli_golden_admin.json``; its one codemod slip, "SOCKS4() proxies", read as before A; and one
    change since: a session waiting for an API pair names what it lacks, issue 18's acceptance)."""
    up = tmp_path / "upload"
    up.mkdir()
    make_session_file(up / "a.session")
    make_session_file(up / "b.session", dc_id=4)
    (up / "b.json").write_text(json.dumps(make_sidecar(api_id=77)))
    (up / "lone.json").write_text(json.dumps(make_sidecar(api_id=78)))
    (up / "junk.session").write_bytes(b"junk")
    (up / "notes.txt").write_text("hello world\n")
    (up / "evil.zip").write_bytes(make_zip({"../x.session": b"x"}))
    (up / "empty.zip").write_bytes(_empty_zip())
    files = [str(up / n) for n in ("a.session", "b.session", "b.json", "lone.json", "junk.session", "notes.txt",
                                   "evil.zip", "empty.zip", "nope.session")]
    runs = [
        ["pool", "import", *files],
        ["pool", "import", str(up / "a.session")],
        ["pairs", "remove", "9999"],
        ["pairs", "add", "2040", "nothex"],
        ["pairs", "add", "0", HASH],
        ["pairs", "add", "2040", HASH],
        ["pairs", "add", "2040", HASH],
        ["pairs", "list"],
        ["pairs", "remove", "2040"],
        ["pairs", "remove", "2040", "--move"],
        ["pool", "status"],
        ["pool", "join", "3,x", "@cats_chat"],
        ["pool", "join", "1", "+bad"],
        ["pool", "join", "1", "-1001234567890"],
        ["pool", "join", "999", "@cats_chat"],
        ["pool", "join", "c42", "@cats_chat"],
        ["pool", "proxy", "1", "socks4://h:1"],
        ["pool", "proxy", "1", "socks5://h:99999"],
        ["pool", "proxy", "1", "mtproxy://ee00@h:443"],
        ["pool", "proxy", "999", "--clear"],
        ["pool", "proxy", "1", "--clear"],
        ["pool", "joins"],
        ["health"],
    ]
    got = []
    for args in runs:
        code = main([*args, "--config", config])
        captured = capsys.readouterr()
        got.append([args[:2], code, captured.out, captured.err])
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    for run, (mine, want) in enumerate(zip(got, golden, strict=True)):
        assert mine == want, (run, runs[run])


# --- a locked tdata: the passcode asked and taken in Russian ----------------------------------------------------


async def test_a_passcode_is_asked_in_russian_and_a_reply_to_it_is_taken(tmp_path: Path) -> None:
    """The request carries the language-free mark (🔐): the reply is deleted and the archive imported."""
    passcode = "пароль 42"
    account = TAccount(0, 5000000001, 4, hashlib.sha512(b"ru").digest() * 4)
    archive = zip_tdata({"tdata": make_tdata([account], passcode=passcode, kdf=FAST_ARGON2)})
    async with bot_harness(tmp_path) as h:
        player = admin(h, "ru")
        summary = await player.send_file("seller.zip", archive)
        ask = await player.user.wait_reply()
        with in_locale("ru"):
            assert f"seller.zip/tdata: {td.PASSCODE_REQUIRED()}" in summary.text
            assert ask.text == td.ask_passcode("seller.zip")
        assert td.ASK_MARK in ask.text and "ответьте на это сообщение паролем" in ask.text
        sent = await player.user.say(passcode, reply_to=ask.message_id)
        done = await player.user.wait_reply()
        assert h.emu.message(ADMIN_ID, sent.message_id).deleted
        assert "Загрузка: принято 1, отклонено 0" in done.text and passcode not in done.text
