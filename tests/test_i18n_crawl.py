"""Issue 18 acceptance: a Russian stranger, customer and admin walk the whole bot and read Russian only; an
English one reads no Russian.

Over the Bot API emulator with a strict simulated world (only declared chats exist), each person sends every
command of the menu Telegram shows them, presses every inline button reachable from each reply (breadth
first, each distinct button once, with a cap; Stop last), taps the reply-keyboard pickers, sends wrong input
to each command, a file that is not a session, a forwarded post, changes /settings, and the customer gets a
cycle with failures (its summary and the summary's buttons). Every text the bot sent or edited, every button
label, every callback answer, the command menu and the bot's descriptions are then checked:

* Russian reader: Cyrillic in every text that is not only data; no run of two English words outside
  ``<code>``, links, /commands, @usernames and what the person typed; labels of at most 24 characters;
* English reader: no Cyrillic at all (the people here type nothing Cyrillic);
* both: no exception class name, no internal bound (2147483647, 9223372036854775807).
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections import deque
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from control_bot.routers import admin_upload
from control_bot.services.reminders import remind
from core.clock import FakeClock
from sandbox.botapi.media import channel_origin
from sandbox.botapi.models import MessageView
from sandbox.world import World
from tests.botkit import ADMIN_ID, DAY, START, Harness, Player, bot_harness
from tests.fake_proxy import closed_port
from tests.test_no_exception_name import EXCEPTION_LIKE

STRANGER = 7001
CUSTOMER = 7002
DEALS_ID = -1001555000111  # the Bot API id of @deals (what forward_origin carries)
PRESS_CAP = 80
# What the people here type or what the world holds, echoed back as data (never a wording to translate).
TYPED = (
    "Summer sale: everything half price", "first text", "Summer sale", "post 1", "post 3", "soon", "lots",
    "garbage", "notes.pdf", "cats_group", "readonly_group", "Europe/Berlin", "Deals", "deals", "abc", "xyz",
    "hello there", "Closed club", "Cats", "Olga", "Ольга", "Admin", "Админ", "Stranger", "Незнакомец", "Nowhere/Land",
)
# Names that are the same in every language (product and protocol names, language names in their own tongue).
PROPER = re.compile(r"\b(?:Telegram(?: Desktop)?|English|UTC|API|api_id|api_hash|ID|tdata|SpamBot|UTC[+-]\d+|"
                    r"Telethon|Pyrogram|SQLite|JSON|CSV|gzip|sidecar|hash)\b")
# What people type as a command's syntax (/delpair api_id move, /proxy 3 off), and examples of it.
SYNTAX = re.compile(r"\b(?:move|off|url|URL|SECRET|mygroup|zip)\b|\[\w+\]|\b\w+://\S+|\b[\w.]+\.org\b|\.\w{2,7}\b")
NOT_WORDS = re.compile(
    r"<code>.*?</code>|<pre>.*?</pre>|<a [^>]*>.*?</a>|<[^>]+>|\b\w+://\S+|\bt\.me/\S+|/[a-z_]+\b|@\w+|"
    r"\{\w+\}|\b[A-Z][a-z]+/[A-Za-z_]+\b|[\w.-]+\.(?:session|json|zip|txt|pdf)\b",
    re.S,
)
TWO_ENGLISH_WORDS = re.compile(r"\b[A-Za-z]{2,}[ ,]+[A-Za-z]{2,}\b")
CYRILLIC = re.compile(r"[А-Яа-яЁё]")
INTERNAL_BOUNDS = ("2147483647", "9223372036854775807", "2 147 483 647", "9 223 372 036 854 775 807")


@pytest.fixture(autouse=True)
def quick_uploads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(admin_upload, "DEBOUNCE", 0.05)


def strict_world(clock: FakeClock) -> World:
    world = World(clock)
    deals = world.add_channel("deals", posts=[1, 2, 3])
    deals.posts[1] = "Summer sale: everything half price"
    world.add_group("cats_group")
    world.add_group("readonly_group")
    world.add_fault(kind="error", error="ChatRestrictedError", group="@readonly_group", times=0)
    return world


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


@dataclass
class Crawl:
    """One person's walk: what they did, and every text of the bot they saw."""

    h: Harness
    player: Player
    lang: str
    presses: int = 0
    pressed: set[str] = field(default_factory=set)
    deferred: list[tuple[int, str]] = field(default_factory=list)

    async def act(self, action: Awaitable[object]) -> list[MessageView]:
        """Do it, wait until the bot handled everything, return what the bot sent or edited for it."""
        await action
        await self.h.idle()
        await self.h.deliver()
        await self.h.idle()
        return self.player.unread()

    async def say(self, text: str) -> list[MessageView]:
        return await self.act(self.player.user.say(text))

    async def walk(self, replies: Iterable[MessageView]) -> None:
        """Press every button reachable from ``replies``, breadth first, each distinct one once."""
        queue: deque[tuple[int, str]] = deque()

        def enqueue(views: Iterable[MessageView]) -> None:
            for view in views:
                for row in (view.reply_markup or {}).get("inline_keyboard", []):
                    for button in row:
                        data = button.get("callback_data")
                        if not isinstance(data, str) or data in self.pressed:
                            continue
                        self.pressed.add(data)
                        if data.startswith("st:lang:") and not data.endswith(f":{self.lang}"):
                            continue  # another language would end a walk in this one
                        if data.endswith(":stop"):
                            self.deferred.append((view.message_id, data))
                        else:
                            queue.append((view.message_id, data))

        enqueue(replies)
        while queue and self.presses < PRESS_CAP:
            message_id, data = queue.popleft()
            self.presses += 1
            enqueue(await self.act(self.player.user.click_data(message_id, data)))

    async def finish(self) -> None:
        """The buttons that end the walk (Stop), last."""
        for message_id, data in self.deferred:
            await self.act(self.player.user.click_data(message_id, data))
        self.deferred.clear()

    # --- what was seen ---

    def texts(self) -> list[tuple[str, str]]:
        """(where, text) for every text of the bot this person saw."""
        seen: list[tuple[str, str]] = []
        for event in self.h.emu.events:
            view = event.message
            if view.chat_id != self.player.id or event.kind == "delete":
                continue
            where = f"message #{view.message_id}" + (" (edit)" if event.kind == "edit" else "")
            if view.html:
                seen.append((where, view.html))
            for row in view.buttons + view.keyboard:
                seen.extend((f"{where} button", label) for label in row)
        for answer in self.h.emu.answered_callbacks:
            if answer.user_id == self.player.id and answer.text:
                seen.append(("callback answer", answer.text))
        for command, description in self.h.emu.commands_seen_by(self.player.id):
            seen.append((f"menu /{command}", description))
        code = self.lang
        seen.append(("description", self.h.emu.description_for(code)))
        seen.append(("short description", self.h.emu.short_description_for(code)))
        return seen


def words_of(text: str) -> str:
    """The text without what is data: markup, code, links, commands, usernames, what people typed, numbers."""
    text = NOT_WORDS.sub(" ", text)
    for typed in TYPED:
        text = text.replace(typed, " ")
    text = SYNTAX.sub(" ", PROPER.sub(" ", text))
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def defects(crawl: Crawl) -> list[str]:
    found: list[str] = []
    for where, text in crawl.texts():
        for bound in INTERNAL_BOUNDS:
            if bound in text:
                found.append(f"{where}: an internal bound {bound}: {text!r}")
        if EXCEPTION_LIKE.search(text):
            found.append(f"{where}: an exception name {EXCEPTION_LIKE.findall(text)}: {text!r}")
        words = words_of(text)
        if crawl.lang == "ru":
            if not CYRILLIC.search(text) and re.search(r"[A-Za-z]{2,}", words):
                found.append(f"{where}: not Russian: {text!r}")
            elif english := TWO_ENGLISH_WORDS.findall(words) or re.findall(r"\b[A-Za-z]{3,}\b", words):
                found.append(f"{where}: English {english} in {text!r}")
            # Telegram cuts a long label on a phone; data (a @username, a zone name) is as long in any language.
            if where.endswith("button") and CYRILLIC.search(text) and len(re.sub(r"@\w+", "", text)) > 24:
                found.append(f"{where}: a label of {len(text)} characters: {text!r}")
        elif CYRILLIC.search(words) and text.strip() != "Русский" and "🇷🇺" not in text:
            found.append(f"{where}: Russian for an English reader: {text!r}")
    return found


def dump(crawl: Crawl) -> None:
    """CRAWL_DUMP=path appends every text seen to that file, for a person to read them all."""
    path = os.environ.get("CRAWL_DUMP")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.writelines(f"[{crawl.lang} {crawl.player.id} {where}] {text}\n" for where, text in crawl.texts())


def report(crawl: Crawl) -> str:
    found = defects(crawl)
    return f"{len(found)} defect(s) for a {crawl.lang} reader:\n" + "\n".join(found)


async def _menu_commands(crawl: Crawl) -> None:
    """Every command of the menu Telegram shows this person, and the buttons of each answer."""
    commands = [name for name, _description in crawl.h.emu.commands_seen_by(crawl.player.id)]
    assert commands, "no command menu"
    for name in commands:
        if name in ("stop", "revoke"):
            continue  # their turn comes last
        await crawl.walk(await crawl.say(f"/{name}"))


# --- the stranger ----------------------------------------------------------------------------------------


async def stranger_walk(h: Harness, lang: str) -> Crawl:
    player = h.user(STRANGER, "Stranger" if lang == "en" else "Незнакомец", language_code=lang)
    crawl = Crawl(h, player, lang)
    await crawl.walk(await crawl.say("/start"))
    for text in ("/help", "/post https://t.me/deals/1", "/grant 1 2 3", "hello there", "/settings"):
        await crawl.walk(await crawl.say(text))
    await crawl.act(player.user.send_document("notes.pdf", b"%PDF-1.4 not a session"))
    await crawl.act(player.user.forward(channel_origin(DEALS_ID, 1, title="Deals", username="deals"), text="x"))
    await crawl.finish()
    return crawl


# --- the customer ----------------------------------------------------------------------------------------


WRONG_INPUT = (
    "/post", "/post lots", "/post https://t.me/deals/99", "/post https://t.me/nowhere_at_all/1",
    "/addgroups", "/addgroups garbage!!", "/addgroups @cats_market#15 https://t.me/deals/1", "/delgroup",
    "/delgroup 99", "/delgroup 99999999999999999999999", "/delgroup @nowhere", "/interval", "/interval soon",
    "/interval 0", "/interval -3", "/interval 1e400", "/interval 99999999999999999999", "/logs lots",
    "/logs 99999999999999999999", "/stats garbage", "/status now", "/usedefaults", "/frobnicate", "/cancel",
    "/groups 99999999999999999999", "/run",
)


async def customer_walk(h: Harness, lang: str) -> Crawl:
    await h.grant(CUSTOMER, sessions=1)
    player = h.user(CUSTOMER, "Olga" if lang == "en" else "Ольга", language_code=lang)
    crawl = Crawl(h, player, lang)
    await crawl.walk(await crawl.say("/start"))
    for text in WRONG_INPUT:
        await crawl.walk(await crawl.say(text))

    keys = await h.fill_pool(1)
    await crawl.say("/post first text")
    await crawl.say("/addgroups @cats_group @readonly_group @nowhere_group")
    await crawl.walk(await crawl.say("/run"))
    await h.cycle(CUSTOMER)  # a cycle with a failure: one summary, its Details / Fix / Stop buttons
    await crawl.walk(await crawl.act(h.deliver()))
    await _menu_commands(crawl)

    # a post forwarded from a channel, a file that is not a session, the pickers, the settings
    await crawl.walk(await crawl.say("/post"))
    await crawl.walk(
        await crawl.act(player.user.forward(channel_origin(DEALS_ID, 1, title="Deals", username="deals"), text="x"))
    )
    await crawl.walk(await crawl.act(player.user.send_document("notes.pdf", b"%PDF-1.4 not a session")))
    # own content: a photo with a caption, an album
    await crawl.say("/post")
    await crawl.walk(await crawl.act(player.user.send_media("photo", b"\x89PNG photo", caption="Summer sale")))
    await crawl.say("/post")
    album = [("photo", b"\x89PNG 1"), ("photo", b"\x89PNG 2")]
    await crawl.walk(await crawl.act(player.user.send_album(album, caption="Summer sale")))
    # a long list: its pages
    await crawl.walk(await crawl.say("/addgroups " + " ".join(f"@many_group_{i:02}" for i in range(30))))
    await crawl.walk(await crawl.say("/groups"))
    await crawl.walk(await crawl.say("/pickgroups"))
    public = h.emu.group_chat(-1001000000555, title="Cats")
    public.username = "cats_group"
    private = h.emu.group_chat(-1001000000777, title="Closed club")
    for button in [button for row in h.emu.reply_keyboard(CUSTOMER) for button in row]:
        label = str(button["text"])
        if "request_chat" in button:
            await crawl.walk(await crawl.act(player.user.share_chat(label, public.id)))
            await crawl.walk(await crawl.act(player.user.share_chat(label, private.id)))
        else:
            await crawl.walk(await crawl.act(player.user.tap(label)))
    await crawl.say("/cancel")
    await crawl.walk(await crawl.say("/settings"))
    await crawl.walk(await crawl.act(player.user.say("Nowhere/Land")))
    await crawl.walk(await crawl.act(player.user.say("Europe/Berlin")))
    await h.clock.advance(400)
    await h.cycle(CUSTOMER)
    await crawl.walk(await crawl.act(h.deliver()))
    for text in ("/status", "/stats", "/logs", "/logs 5", "/groups"):
        await crawl.walk(await crawl.say(text))
    # a flood wait, then the session dies mid-cycle with a spare in the pool: what the customer and the
    # admins are told about it, outside any handler (the outbox)
    await h.fill_pool(1)
    h.world.add_fault(kind="flood_wait", seconds=900, times=1)
    await h.clock.advance(400)
    await h.cycle(CUSTOMER)
    await crawl.walk(await crawl.act(h.deliver()))
    h.world.add_fault(kind="dead", times=0, account=keys[0])
    await h.clock.advance(1200)
    await h.cycle(CUSTOMER)
    await crawl.walk(await crawl.act(h.deliver()))
    # the plan reminders, 3 days and 1 day before its end (and the admins' daily list)
    await h.clock.advance(DAY * 27)
    await remind(h.db, h.clock.now())
    await crawl.walk(await crawl.act(h.deliver()))
    await h.clock.advance(DAY * 2)
    await remind(h.db, h.clock.now())
    await crawl.walk(await crawl.act(h.deliver()))
    await crawl.walk(await crawl.say("/status"))
    await crawl.finish()
    await crawl.walk(await crawl.say("/stop"))
    await crawl.walk(await crawl.say("/stop"))
    return crawl


# --- the admin -------------------------------------------------------------------------------------------


ADMIN_WRONG = (
    "/grant", "/grant abc", "/grant 1 2", "/grant 1 99999999999999999999 3", "/grant 9223372036854775808 1 1",
    "/grant @nobody_here 1 30", "/grant 1 -1 30", "/revoke", "/revoke abc", "/revoke 99999999999999999999",
    "/addpair", "/addpair abc xyz", "/addpair 99999999999999999999 0123456789abcdef0123456789abcdef",
    "/delpair", "/delpair abc", "/delpair 99999999999999999999", "/reach", "/reach abc",
    "/reach 99999999999999999999", "/join", "/join abc", "/join 99999999999999999999 @cats_group",
    "/proxy", "/proxy abc", "/proxy 99999999999999999999 off", "/proxy 1 garbage", "/adddefaultgroups",
    "/adddefaultgroups garbage!!", "/frobnicate",
)


async def admin_walk(h: Harness, lang: str, others: str) -> tuple[Crawl, Crawl]:
    """The admin's walk; ``others``: the language of the people the admin's buttons write to."""
    player = h.user(ADMIN_ID, "Admin" if lang == "en" else "Админ", language_code=lang)
    crawl = Crawl(h, player, lang)
    await crawl.walk(await crawl.say("/start"))
    await _menu_commands(crawl)
    for text in ADMIN_WRONG:
        await crawl.walk(await crawl.say(text))
    # a stranger asks for access: the card and its plan buttons
    stranger = h.user(STRANGER + 1, "Stranger", language_code=others)
    await stranger.ask("/start")
    await stranger.user.click(stranger.last_bot_message().buttons[0][0])
    await h.idle()
    await crawl.walk(player.unread())
    # /grant by the picker, and a plan change shown before -> after
    await crawl.walk(await crawl.say("/grant"))
    for button in [button for row in h.emu.reply_keyboard(ADMIN_ID) for button in row]:
        if "request_users" in button:
            await crawl.walk(await crawl.act(player.user.share_users(str(button["text"]), [CUSTOMER])))
    await crawl.walk(await crawl.say(f"/grant {CUSTOMER} 2 30"))
    await crawl.walk(await crawl.say(f"/reach {CUSTOMER}"))
    for text in (
        "/addpair 2041 0123456789abcdef0123456789abcdef", "/pairs", "/delpair 2041", "/adddefaultgroups @cats_group",
        "/defaultgroups", "/join 1 @cats_group", "/joins",
        f"/proxy 1 socks5://127.0.0.1:{closed_port()}", "/proxy 1 off",
        "/checksessions", "/pool", "/health", "/customers",
    ):
        await crawl.walk(await crawl.say(text))
    # a file that is not a session, a zip with no API pair, and a PDF
    await crawl.walk(await crawl.act(player.user.send_document("notes.pdf", b"%PDF-1.4 not a session")))
    await player.user.send_document("broken.session", b"garbage")
    await crawl.walk([await player.user.wait_reply()])
    await player.user.send_document("sessions.zip", _zip({"a.txt": b"x"}))
    await crawl.walk([await player.user.wait_reply()])
    await h.idle()
    await crawl.walk(player.unread())
    await crawl.walk(await crawl.say("/settings"))
    await crawl.walk(await crawl.say(f"/revoke {CUSTOMER}"))
    await crawl.finish()
    return crawl, Crawl(h, stranger, others)


# Each person walks in each language; the admin speaks the other one, so that whatever one person's action
# sends another is seen rendered for its receiver, not for whoever pressed.
@pytest.mark.parametrize(("lang", "admin_lang"), [("ru", "en"), ("en", "ru")], ids=["ru-admin-en", "en-admin-ru"])
async def test_every_text_reads_in_the_readers_language(tmp_path: Path, lang: str, admin_lang: str) -> None:
    """``lang``: the stranger's and the customer's; ``admin_lang``: the admin's. What one person's action
    sends another (a card, a plan change, a revoke) is in the receiver's language."""
    clock = FakeClock(START, auto=True)
    try:
        async with bot_harness(
            tmp_path, world=strict_world(clock), clock=clock, users=[(ADMIN_ID, "Admin", admin_lang)],
            group_failure_limit=1,
        ) as h:
            # The admin opened the bot once: the bot knows their language before any card reaches them.
            await h.user(ADMIN_ID, "Admin", language_code=admin_lang).ask("/start")
            walks = [await stranger_walk(h, lang), await customer_walk(h, lang)]
            walks += await admin_walk(h, admin_lang, lang)
            for walk in walks:
                dump(walk)
            found = "\n\n".join(report(walk) for walk in walks if defects(walk))
            assert not found, found
            assert all(walk.presses for walk in walks[:3])
            # Nothing the bot tried to say was refused (a text, caption, label or alert over Telegram's limits).
            refused = sorted({
                (c.method, c.error) for c in h.emu.calls
                if c.error and c.method != "getChat" and "message is not modified" not in c.error
                # a second answer to one press (/checksessions' "checking…" toast, then its report) is
                # refused by Telegram and harmless: the person saw the first
                and "query is too old" not in c.error
            })
            assert not refused, refused
    finally:
        await clock.aclose()


def test_the_checks_catch_what_they_are_for() -> None:
    """The heuristics above flag English in Russian and Russian in English, and let data through."""

    class Seen(Crawl):
        def __init__(self, lang: str, seen: list[str]) -> None:
            self.lang, self.seen = lang, seen

        def texts(self) -> list[tuple[str, str]]:
            return [("text", text) for text in self.seen]

    ru_bad = ["Pick a plan", "Тариф: 1 session · 30 days", "Ошибка: ChatWriteForbiddenError", "до 2147483647"]
    ru_good = ["@cats_group", "https://t.me/deals/1", "Europe/Berlin (UTC+1)", "Пост: <code>first text</code>", "42"]
    assert all(defects(Seen("ru", [text])) for text in ru_bad)
    assert defects(Seen("ru", ru_good)) == []
    assert defects(Seen("en", ["Готово", "Done"])) == ["text: Russian for an English reader: 'Готово'"]


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_a_proxy_check_failure_reads_in_words_not_the_librarys(lang: str) -> None:
    """What python-socks or the OS said (English, sometimes an exception name) is logged; people read its
    meaning in their language."""
    from core.texts import proxy as pt
    from tests.botkit import in_locale

    stored = (
        "refused:Unexpected SOCKS version number: 72", "refused:Username and password authentication failure",
        "refused:Connection refused by destination host", "refused:Proxy server error",
        "unreachable:Connection refused",
        "unreachable:ProxyConnectionError", "unreachable:Name or service not known", "unreachable:No route to host",
    )
    with in_locale(lang):
        for key in stored:
            text = pt.check_failed("socks5://127.0.0.1:1", key)
            assert key.partition(":")[2] not in text and not EXCEPTION_LIKE.search(text), text
            if lang == "ru":
                assert not re.search(r"[A-Za-z]{3,}", words_of(text)), text
