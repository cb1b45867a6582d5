"""Every inline keyboard of the control bot (``InlineKeyboardBuilder`` + ``adjust``)."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    KeyboardButtonRequestChat,
    KeyboardButtonRequestUsers,
    ReplyKeyboardMarkup,
)
from aiogram.utils.keyboard import InlineKeyboardBuilder

from control_bot import callbacks as cb
from core.periods import Period
from core.schedule import DAY_MINUTES, EVERY_DAY, WEEKDAYS
from core.states import NotifyLevel
from core.texts import admin as at
from core.texts import customer as t
from core.texts import events as et
from core.texts import groups as gt
from core.texts import joins as jt
from core.texts import onboarding as ot
from core.texts import plans as pt
from core.texts import post as post_texts
from core.texts import posts as pst
from core.texts import reach as rt
from core.texts import schedule as sch
from core.texts import settings as st
from core.texts import stats as stt

# --- customer side ---------------------------------------------------------------------------------

INTERVAL_PRESETS_MIN = (5, 10, 15, 30, 60, 120)


def _menu_button(builder: InlineKeyboardBuilder, label: str, action: cb.MenuAction) -> None:
    builder.button(text=label, callback_data=cb.MenuCb(action=action))


def main_menu(running: bool) -> InlineKeyboardMarkup:
    b = InlineKeyboardBuilder()
    _menu_button(b, t.BTN_STOP() if running else t.BTN_RUN(), cb.MenuAction.STOP if running else cb.MenuAction.RUN)
    _menu_button(b, t.BTN_STATUS(), cb.MenuAction.STATUS)
    _menu_button(b, t.BTN_POST(), cb.MenuAction.POST)
    b.button(text=pst.BTN_POSTS(), callback_data=cb.PostsCb(action=cb.PostsAction.LIST))
    _menu_button(b, t.BTN_GROUPS(), cb.MenuAction.GROUPS)
    _menu_button(b, t.BTN_INTERVAL(), cb.MenuAction.INTERVAL)
    _menu_button(b, t.BTN_SCHEDULE(), cb.MenuAction.SCHEDULE)
    _menu_button(b, t.BTN_STATS(), cb.MenuAction.STATS)
    _menu_button(b, t.BTN_LOGS(), cb.MenuAction.LOGS)
    _menu_button(b, t.BTN_HELP(), cb.MenuAction.HELP)
    b.adjust(2)
    return b.as_markup()


def back_to_menu() -> InlineKeyboardMarkup:
    b = InlineKeyboardBuilder()
    _menu_button(b, t.BTN_MENU(), cb.MenuAction.HOME)
    return b.as_markup()


def cancel() -> InlineKeyboardMarkup:
    b = InlineKeyboardBuilder()
    _menu_button(b, t.BTN_CANCEL(), cb.MenuAction.CANCEL)
    return b.as_markup()


def refreshable(action: cb.MenuAction) -> InlineKeyboardMarkup:
    """Status and stats: refresh in place, or go back to the menu."""
    b = InlineKeyboardBuilder()
    _menu_button(b, t.BTN_REFRESH(), action)
    _menu_button(b, t.BTN_MENU(), cb.MenuAction.HOME)
    b.adjust(2)
    return b.as_markup()


def status(running: bool) -> InlineKeyboardMarkup:
    b = InlineKeyboardBuilder()
    _menu_button(b, t.BTN_REFRESH(), cb.MenuAction.STATUS)
    _menu_button(b, t.BTN_STOP() if running else t.BTN_RUN(), cb.MenuAction.STOP if running else cb.MenuAction.RUN)
    _menu_button(b, t.BTN_MENU(), cb.MenuAction.HOME)
    b.adjust(2, 1)
    return b.as_markup()


def post() -> InlineKeyboardMarkup:
    b = InlineKeyboardBuilder()
    _menu_button(b, t.BTN_SET_POST(), cb.MenuAction.SET_POST)
    _menu_button(b, t.BTN_MENU(), cb.MenuAction.HOME)
    b.adjust(2)
    return b.as_markup()


def logs(has_file: bool) -> InlineKeyboardMarkup:
    b = InlineKeyboardBuilder()
    if has_file:
        _menu_button(b, t.BTN_LOG_FILE(), cb.MenuAction.LOG_FILE)
    _menu_button(b, t.BTN_REFRESH(), cb.MenuAction.LOGS)
    _menu_button(b, t.BTN_MENU(), cb.MenuAction.HOME)
    if has_file:
        b.adjust(1, 2)
    else:
        b.adjust(2)
    return b.as_markup()


def interval(min_s: int, max_s: int) -> InlineKeyboardMarkup:
    b = InlineKeyboardBuilder()
    presets = [m for m in INTERVAL_PRESETS_MIN if min_s <= m * 60 <= max_s]
    for minutes in presets:
        b.button(text=t.btn_interval(minutes), callback_data=cb.IntervalCb(minutes=minutes))
    _menu_button(b, t.BTN_INTERVAL_OTHER(), cb.MenuAction.INTERVAL_OTHER)
    _menu_button(b, t.BTN_MENU(), cb.MenuAction.HOME)
    b.adjust(*([3] * (len(presets) // 3)), *([len(presets) % 3] if len(presets) % 3 else []), 2)
    return b.as_markup()


# --- admin side ------------------------------------------------------------------------------------


def admin_panel() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for label, action in (
        (at.BTN_ADMIN_POOL(), cb.AdminAction.POOL),
        (at.BTN_ADMIN_PAIRS(), cb.AdminAction.PAIRS),
        (at.BTN_ADMIN_CUSTOMERS(), cb.AdminAction.CUSTOMERS),
        (at.BTN_ADMIN_HEALTH(), cb.AdminAction.HEALTH),
        (at.BTN_ADMIN_DEFAULT_GROUPS(), cb.AdminAction.DEFAULT_GROUPS),
        (at.BTN_ADMIN_CHECK_SESSIONS(), cb.AdminAction.CHECK_SESSIONS),
        (rt.BTN_ADMIN_REACH(), cb.AdminAction.REACH),
        (jt.BTN_ADMIN_JOINS(), cb.AdminAction.JOINS),
    ):
        kb.button(text=label, callback_data=cb.AdminCb(action=action))
    kb.adjust(2)
    return kb.as_markup()


def admin_back() -> InlineKeyboardMarkup:
    """Under a report opened from the panel: back to the panel."""
    kb = InlineKeyboardBuilder()
    kb.button(text=at.BTN_ADMIN_BACK(), callback_data=cb.AdminCb(action=cb.AdminAction.PANEL))
    return kb.as_markup()


REACH_PICKER_MAX = 40  # customers offered as buttons; the others through /reach <user_id>


def reach_picker(customers: list[tuple[int, bool]]) -> InlineKeyboardMarkup:
    """``customers``: (user id, campaign running) of those offered."""
    kb = InlineKeyboardBuilder()
    for user_id, running in customers[:REACH_PICKER_MAX]:
        kb.button(text=rt.btn_reach_customer(user_id, running), callback_data=cb.ReachCb(customer_id=user_id))
    kb.adjust(4)
    kb.row(InlineKeyboardButton(text=at.BTN_ADMIN_BACK(), callback_data=cb.AdminCb(action=cb.AdminAction.PANEL).pack()))
    return kb.as_markup()


def reach(
    customer_id: int, offers: Sequence[tuple[int, int, int]], joins: Sequence[tuple[int, str]] = ()
) -> InlineKeyboardMarkup:
    """One customer's reach screen: ``offers`` (take, give, groups it reaches) as swap buttons, ``joins``
    (group id, public chat) as join buttons."""
    kb = InlineKeyboardBuilder()
    for take, give, groups in offers:
        kb.button(
            text=rt.btn_swap(take, give, groups),
            callback_data=cb.ReachSwapCb(customer_id=customer_id, give=give, take=take),
        )
    for group_id, ref in joins:
        kb.button(text=rt.btn_join(ref), callback_data=cb.ReachJoinCb(customer_id=customer_id, group_id=group_id))
    kb.button(text=rt.BTN_REACH_REFRESH(), callback_data=cb.ReachCb(customer_id=customer_id))
    kb.button(text=at.BTN_ADMIN_BACK(), callback_data=cb.AdminCb(action=cb.AdminAction.PANEL))
    kb.adjust(*([1] * (len(offers) + len(joins))), 2)
    return kb.as_markup()


def join_confirm(draft: int) -> InlineKeyboardMarkup:
    """Under an invite's preview: queue the joins, or not."""
    kb = InlineKeyboardBuilder()
    kb.button(text=jt.BTN_QUEUE_JOINS(), callback_data=cb.JoinCb(action=cb.JoinAction.QUEUE, draft=draft))
    kb.button(text=jt.BTN_CANCEL_JOINS(), callback_data=cb.JoinCb(action=cb.JoinAction.CANCEL, draft=draft))
    kb.adjust(2)
    return kb.as_markup()


# --- /settings (issue 18 part A1) ------------------------------------------------------------------

SETTINGS_ZONES = (
    "UTC", "Europe/London", "Europe/Berlin", "Europe/Kyiv", "Europe/Moscow", "Asia/Dubai",
    "Asia/Tashkent", "Asia/Almaty", "Asia/Kolkata", "Asia/Shanghai", "America/New_York", "America/Los_Angeles",
)
"""The zones offered as buttons; any other IANA name or offset can be typed."""


def _settings_button(b: InlineKeyboardBuilder, label: str, action: cb.SettingsAction, value: str = "") -> None:
    b.button(text=label, callback_data=cb.SettingsCb(action=action, value=value))


def settings_menu() -> InlineKeyboardMarkup:
    b = InlineKeyboardBuilder()
    _settings_button(b, st.BTN_LANGUAGE(), cb.SettingsAction.LANGUAGES)
    _settings_button(b, st.BTN_ZONE(), cb.SettingsAction.ZONES)
    _settings_button(b, st.BTN_NOTIFICATIONS(), cb.SettingsAction.LEVELS)
    _settings_button(b, st.BTN_CLOSE(), cb.SettingsAction.CLOSE)
    b.adjust(2, 1, 1)
    return b.as_markup()


def settings_back() -> InlineKeyboardMarkup:
    b = InlineKeyboardBuilder()
    _settings_button(b, st.BTN_BACK(), cb.SettingsAction.SHOW)
    return b.as_markup()


def settings_languages(locales: Sequence[str], current: str) -> InlineKeyboardMarkup:
    """One button per available locale, named in its own language; the current one marked."""
    b = InlineKeyboardBuilder()
    for code in locales:
        mark = "✅ " if code == current else ""
        _settings_button(b, mark + st.language_name(code), cb.SettingsAction.SET_LANGUAGE, code)
    _settings_button(b, st.BTN_BACK(), cb.SettingsAction.SHOW)
    b.adjust(*([2] * ((len(locales) + 1) // 2)), 1)
    return b.as_markup()


def settings_zones(zones: Sequence[tuple[str, str]], current: str) -> InlineKeyboardMarkup:
    """``zones``: (IANA name, its label now) of the offered zones."""
    b = InlineKeyboardBuilder()
    for name, label in zones:
        mark = "✅ " if name == current else ""
        _settings_button(b, mark + label, cb.SettingsAction.SET_ZONE, name)
    _settings_button(b, st.BTN_ZONE_OTHER(), cb.SettingsAction.ZONE_OTHER)
    _settings_button(b, st.BTN_BACK(), cb.SettingsAction.SHOW)
    b.adjust(*([2] * ((len(zones) + 1) // 2)), 1, 1)
    return b.as_markup()


def settings_levels(levels: Sequence[NotifyLevel], current: NotifyLevel) -> InlineKeyboardMarkup:
    b = InlineKeyboardBuilder()
    for level in levels:
        mark = "✅ " if level == current else ""
        _settings_button(b, mark + st.level_button(level), cb.SettingsAction.SET_LEVEL, level.value)
    _settings_button(b, st.BTN_BACK(), cb.SettingsAction.SHOW)
    b.adjust(1)
    return b.as_markup()


# --- issue 18 part D ---


def request_access() -> InlineKeyboardMarkup:
    """Under a stranger's /start and /help."""
    b = InlineKeyboardBuilder()
    b.button(text=ot.BTN_REQUEST_ACCESS(), callback_data=cb.OnboardingCb(action=cb.OnboardingAction.REQUEST))
    return b.as_markup()


def access_card(user_id: int, presets: Sequence[tuple[int, int]]) -> InlineKeyboardMarkup:
    """An admin's card: one button per plan preset (sessions, days), Other…, Decline."""
    b = InlineKeyboardBuilder()
    for sessions, days in presets:
        b.button(
            text=ot.plan_label(sessions, days),
            callback_data=cb.AccessCardCb(action=cb.CardAction.GRANT, user_id=user_id, sessions=sessions, days=days),
        )
    b.button(text=ot.BTN_OTHER_PLAN(), callback_data=cb.AccessCardCb(action=cb.CardAction.OTHER, user_id=user_id))
    b.button(text=ot.BTN_DECLINE(), callback_data=cb.AccessCardCb(action=cb.CardAction.DECLINE, user_id=user_id))
    b.adjust(*([2] * ((len(presets) + 1) // 2)), 2)
    return b.as_markup()


def admin_start(has_plan: bool) -> InlineKeyboardMarkup:
    """An admin's /start: the admin panel, and their own campaign when they have a plan."""
    markup = admin_panel()
    if not has_plan:
        return markup
    own = InlineKeyboardButton(text=ot.BTN_CUSTOMER_SIDE(), callback_data=cb.MenuCb(action=cb.MenuAction.HOME).pack())
    return InlineKeyboardMarkup(inline_keyboard=[*markup.inline_keyboard, [own]])


# --- issue 18 part E ---


def post_header(drop_author: bool) -> InlineKeyboardMarkup:
    """Under the preview of a link post: switch the "Forwarded from" header, or back to the menu."""
    b = InlineKeyboardBuilder()
    label = post_texts.BTN_KEEP_AUTHOR() if drop_author else post_texts.BTN_DROP_AUTHOR()
    b.button(text=label, callback_data=cb.PostHeaderCb(drop=not drop_author).pack())
    _menu_button(b, t.BTN_MENU(), cb.MenuAction.HOME)
    b.adjust(1)
    return b.as_markup()


# --- issue 18 part F ---

PICK_GROUPS_REQUEST_ID = 1806  # the request_id of the group picker's chat-request button
GROUPS_PAGE = 10  # groups per /groups page: each has its own 🗑 button
_REMOVE_PER_ROW = 5


def groups_screen(
    shown: Sequence[tuple[int, int, str, bool]], page: int, pages: int, has_defaults: bool
) -> InlineKeyboardMarkup:
    """``shown``: (group id, its number in the list, ref, paused) of the groups on this page: a 🗑 button
    each, a resume button for each paused one, pages, then add / pick / remove and the menu."""
    b = InlineKeyboardBuilder()
    sizes: list[int] = []
    for group_id, _number, ref, paused in shown:
        if paused:
            b.button(text=t.btn_resume(ref), callback_data=cb.GroupResumeCb(group_id=group_id))
            sizes.append(1)
    removes = 0
    for group_id, number, _ref, _paused in shown:
        b.button(text=gt.btn_remove(number), callback_data=cb.GroupRemoveCb(group_id=group_id, page=page))
        removes += 1
    sizes.extend([_REMOVE_PER_ROW] * (removes // _REMOVE_PER_ROW))
    if removes % _REMOVE_PER_ROW:
        sizes.append(removes % _REMOVE_PER_ROW)
    if pages > 1:
        nav = 0
        if page > 0:
            b.button(text=t.BTN_PREV(), callback_data=cb.GroupsPageCb(page=page - 1))
            nav += 1
        if page < pages - 1:
            b.button(text=t.BTN_NEXT(), callback_data=cb.GroupsPageCb(page=page + 1))
            nav += 1
        sizes.append(nav)
    _menu_button(b, t.BTN_ADD_GROUPS(), cb.MenuAction.ADD_GROUPS)
    b.button(text=gt.BTN_PICK_GROUPS(), callback_data=cb.GroupsPickCb())
    sizes.append(2)
    _menu_button(b, t.BTN_DEL_GROUP(), cb.MenuAction.DEL_GROUP)
    sizes.append(1)
    if has_defaults:
        _menu_button(b, t.BTN_DEFAULT_GROUPS(), cb.MenuAction.DEFAULT_GROUPS)
        sizes.append(1)
    _menu_button(b, t.BTN_MENU(), cb.MenuAction.HOME)
    sizes.append(1)
    b.adjust(*sizes)
    return b.as_markup()


def pick_groups() -> ReplyKeyboardMarkup:
    """Telegram's own group picker (groups only, with their title and username; one per tap) and Done."""
    pick = KeyboardButton(
        text=gt.BTN_PICK_GROUPS(),
        request_chat=KeyboardButtonRequestChat(
            request_id=PICK_GROUPS_REQUEST_ID, chat_is_channel=False, request_title=True, request_username=True
        ),
    )
    return ReplyKeyboardMarkup(keyboard=[[pick], [KeyboardButton(text=gt.BTN_PICK_DONE())]], resize_keyboard=True)


# --- issue 18 part G ---


def cycle_summary(*, running: bool, fix_groups: bool) -> InlineKeyboardMarkup:
    """Details / Stop / Fix under a cycle summary (Stop only while it runs, Fix for group problems)."""
    b = InlineKeyboardBuilder()
    b.button(text=et.BTN_DETAILS(), callback_data=cb.NotifyCb(action=cb.NotifyAction.DETAILS))
    if running:
        b.button(text=et.BTN_STOP_CAMPAIGN(), callback_data=cb.NotifyCb(action=cb.NotifyAction.STOP))
    if fix_groups:
        b.button(text=et.BTN_FIX_GROUPS(), callback_data=cb.NotifyCb(action=cb.NotifyAction.FIX_GROUPS))
    b.adjust(3)
    return b.as_markup()


# --- issue 18 part H ---


def plan_confirm(token: str) -> InlineKeyboardMarkup:
    """Under a plan's before -> after (``services.plans.Proposal.token``)."""
    b = InlineKeyboardBuilder()
    b.button(text=pt.BTN_CONFIRM(), callback_data=cb.PlanConfirmCb(action=cb.PlanAction.CONFIRM, token=token))
    b.button(text=pt.BTN_CANCEL(), callback_data=cb.PlanConfirmCb(action=cb.PlanAction.CANCEL, token=token))
    b.adjust(2)
    return b.as_markup()


def plan_presets(user_id: int, presets: Sequence[tuple[int, int]]) -> InlineKeyboardMarkup:
    """One button per (sessions, days) of ``[bot] plan_presets`` for this person (also part D's card)."""
    b = InlineKeyboardBuilder()
    for sessions, days in presets:
        b.button(
            text=pt.BTN_PLAN_PRESET(sessions, days),
            callback_data=cb.PlanPresetCb(user_id=user_id, sessions=sessions, days=days),
        )
    b.adjust(2)
    return b.as_markup()


def pick_person() -> ReplyKeyboardMarkup:
    """/grant's "Pick a person": Telegram's user picker, people only, one at a time."""
    button = KeyboardButton(
        text=pt.BTN_PICK_PERSON(),
        request_users=KeyboardButtonRequestUsers(
            request_id=cb.PICK_PERSON_REQUEST_ID, user_is_bot=False, max_quantity=1,
            request_name=True, request_username=True,
        ),
    )
    return ReplyKeyboardMarkup(keyboard=[[button]], resize_keyboard=True, one_time_keyboard=True)


# --- issue 19 part A ---

COPY_MODES = {"header": (False, False), "noheader": (True, False), "nocaptions": (True, True)}
"""The copy options' button values: (drop_author, drop_media_captions)."""
ROTATIONS = ("order", "random", "fixed")


def _posts_button(b: InlineKeyboardBuilder, label: str, action: cb.PostsAction, **data: int | str) -> None:
    b.button(text=label, callback_data=cb.PostsCb(action=action, **data))


def posts_list(shown: Sequence[tuple[int, int, str]], fixed: bool) -> InlineKeyboardMarkup:
    """/posts: ``shown`` (post id, number, title) a button each, then add, rotation, copy options, the post
    of each group (rotation fixed per group) and the menu."""
    b = InlineKeyboardBuilder()
    for post_id, number, title in shown:
        _posts_button(b, pst.btn_post(number, title), cb.PostsAction.OPEN, post=post_id)
    _posts_button(b, pst.BTN_ADD_POST(), cb.PostsAction.ADD)
    _posts_button(b, pst.BTN_ROTATION(), cb.PostsAction.ROTATION)
    _posts_button(b, pst.BTN_COPY(), cb.PostsAction.COPY)
    if fixed:
        _posts_button(b, pst.BTN_GROUP_POSTS(), cb.PostsAction.GROUPS)
    _menu_button(b, t.BTN_MENU(), cb.MenuAction.HOME)
    b.adjust(*([2] * (len(shown) // 2)), *([1] if len(shown) % 2 else []), 1, 2, *([1] if fixed else []), 1)
    return b.as_markup()


def post_screen(post_id: int, *, text_post: bool, link_preview: bool, first: bool, last: bool) -> InlineKeyboardMarkup:
    """One post: preview, up / down (where it can move), remove, a text post's link preview switch."""
    b = InlineKeyboardBuilder()
    _posts_button(b, pst.BTN_PREVIEW(), cb.PostsAction.PREVIEW, post=post_id)
    moves = 0
    if not first:
        _posts_button(b, pst.BTN_UP(), cb.PostsAction.UP, post=post_id)
        moves += 1
    if not last:
        _posts_button(b, pst.BTN_DOWN(), cb.PostsAction.DOWN, post=post_id)
        moves += 1
    _posts_button(b, pst.BTN_REMOVE(), cb.PostsAction.REMOVE, post=post_id)
    if text_post:
        action = cb.PostsAction.PREVIEW_OFF if link_preview else cb.PostsAction.PREVIEW_ON
        _posts_button(b, pst.btn_link_preview(link_preview), action, post=post_id)
    _posts_button(b, pst.BTN_ALL_POSTS(), cb.PostsAction.LIST)
    b.adjust(1, *([moves] if moves else []), 1, *([1] if text_post else []), 1)
    return b.as_markup()


def post_remove_confirm(post_id: int) -> InlineKeyboardMarkup:
    b = InlineKeyboardBuilder()
    _posts_button(b, pst.BTN_REMOVE_YES(), cb.PostsAction.REMOVE_YES, post=post_id)
    _posts_button(b, pst.BTN_REMOVE_NO(), cb.PostsAction.OPEN, post=post_id)
    b.adjust(2)
    return b.as_markup()


def posts_back(post_id: int = 0) -> InlineKeyboardMarkup:
    """Back to one post's screen (``post_id``), or to the list."""
    b = InlineKeyboardBuilder()
    if post_id:
        _posts_button(b, pst.BTN_BACK(), cb.PostsAction.OPEN, post=post_id)
    else:
        _posts_button(b, pst.BTN_ALL_POSTS(), cb.PostsAction.LIST)
    return b.as_markup()


def posts_rotation(current: str) -> InlineKeyboardMarkup:
    b = InlineKeyboardBuilder()
    for mode in ROTATIONS:
        _posts_button(b, pst.btn_rotation(mode, mode == current), cb.PostsAction.SET_ROTATION, value=mode)
    if current == "fixed":
        _posts_button(b, pst.BTN_GROUP_POSTS(), cb.PostsAction.GROUPS)
    _posts_button(b, pst.BTN_ALL_POSTS(), cb.PostsAction.LIST)
    b.adjust(1)
    return b.as_markup()


def posts_copy(drop_author: bool, drop_media_captions: bool) -> InlineKeyboardMarkup:
    b = InlineKeyboardBuilder()
    for value, (author, captions) in COPY_MODES.items():
        current = (author, captions) == (drop_author, drop_media_captions and drop_author)
        _posts_button(b, pst.btn_copy(author, captions, current), cb.PostsAction.SET_COPY, value=value)
    _posts_button(b, pst.BTN_ALL_POSTS(), cb.PostsAction.LIST)
    b.adjust(1)
    return b.as_markup()


def group_posts(shown: Sequence[tuple[int, int, str]], page: int, pages: int) -> InlineKeyboardMarkup:
    """The post of each group: ``shown`` (group id, number, ref) a button each, pages, back to the list."""
    b = InlineKeyboardBuilder()
    for group_id, number, ref in shown:
        _posts_button(b, pst.btn_group(number, ref), cb.PostsAction.GROUP, group=group_id, page=page)
    nav = 0
    if page > 0:
        _posts_button(b, t.BTN_PREV(), cb.PostsAction.GROUPS, page=page - 1)
        nav += 1
    if page < pages - 1:
        _posts_button(b, t.BTN_NEXT(), cb.PostsAction.GROUPS, page=page + 1)
        nav += 1
    _posts_button(b, pst.BTN_ALL_POSTS(), cb.PostsAction.LIST)
    b.adjust(*([2] * (len(shown) // 2)), *([1] if len(shown) % 2 else []), *([nav] if nav else []), 1)
    return b.as_markup()


def group_post_pick(
    group_id: int, posts: Sequence[tuple[int, int, str]], current: int | None, page: int
) -> InlineKeyboardMarkup:
    """One group's post: ``posts`` (post id, number, title), "follow the order", back to the groups."""
    b = InlineKeyboardBuilder()
    for post_id, number, title in posts:
        _posts_button(b, pst.btn_group_post(number, title, post_id == current), cb.PostsAction.SET_GROUP,
                      group=group_id, post=post_id, page=page)
    _posts_button(b, pst.btn_follow_order(current is None), cb.PostsAction.SET_GROUP, group=group_id, page=page)
    _posts_button(b, pst.BTN_BACK(), cb.PostsAction.GROUPS, page=page)
    b.adjust(1)
    return b.as_markup()



# --- issue 19 part B ---


def schedule(days: int, hour_presets: Sequence[tuple[int, int]], day_presets: Sequence[int]) -> InlineKeyboardMarkup:
    """/schedule: a toggle per day, day and hour presets, typed hours, done."""
    b = InlineKeyboardBuilder()
    act = cb.ScheduleAction
    buttons = [(sch.btn_day(d, bool(days >> d & 1)), act.DAY, d) for d in range(7)]
    buttons += [({EVERY_DAY: sch.BTN_EVERY_DAY, WEEKDAYS: sch.BTN_WEEKDAYS}[m](), act.DAYS, m) for m in day_presets]
    buttons += [(sch.BTN_ALL_DAY(), act.HOURS, 0)]
    buttons += [(sch.btn_hours(start, end), act.HOURS, start * DAY_MINUTES + end) for start, end in hour_presets]
    buttons += [(sch.BTN_OTHER_HOURS(), act.OTHER, 0), (sch.BTN_DONE(), act.DONE, 0)]
    for label, action, value in buttons:
        b.button(text=label, callback_data=cb.ScheduleCb(action=action, value=value))
    b.adjust(4, 3, len(day_presets), 2, 2, 2)
    return b.as_markup()


def schedule_back() -> InlineKeyboardMarkup:
    b = InlineKeyboardBuilder()
    b.button(text=t.BTN_CANCEL(), callback_data=cb.ScheduleCb(action=cb.ScheduleAction.SHOW))
    return b.as_markup()


# --- issue 19 part S ---


def _periods(b: InlineKeyboardBuilder, view: cb.StatsView, current: Period) -> None:
    for period in Period:
        b.button(text=stt.btn_period(period, period is current),
                 callback_data=cb.StatsCb(view=view, period=period))


def stats_screen(period: Period) -> InlineKeyboardMarkup:
    """/stats: the periods, per group, the chart, export, refresh and the menu."""
    b = InlineKeyboardBuilder()
    _periods(b, cb.StatsView.SUMMARY, period)
    b.button(text=stt.BTN_PER_GROUP(), callback_data=cb.StatsCb(view=cb.StatsView.GROUPS, period=period))
    b.button(text=stt.BTN_CHART(), callback_data=cb.StatsCb(view=cb.StatsView.CHART, period=period))
    b.button(text=stt.BTN_EXPORT(), callback_data=cb.ExportCb(period=period))
    b.button(text=t.BTN_REFRESH(), callback_data=cb.StatsCb(view=cb.StatsView.SUMMARY, period=period))
    _menu_button(b, t.BTN_MENU(), cb.MenuAction.HOME)
    b.adjust(len(Period), 3, 2)
    return b.as_markup()


def stats_groups(period: Period, page: int, pages: int) -> InlineKeyboardMarkup:
    """The per-group view: the periods, pages, back to the summary, the menu."""
    b = InlineKeyboardBuilder()
    _periods(b, cb.StatsView.GROUPS, period)
    sizes = [len(Period)]
    if pages > 1:
        nav = 0
        for label, to in ((t.BTN_PREV(), page - 1), (t.BTN_NEXT(), page + 1)):
            if 0 <= to < pages:
                b.button(text=label, callback_data=cb.StatsCb(view=cb.StatsView.GROUPS, period=period, page=to))
                nav += 1
        sizes.append(nav)
    b.button(text=stt.BTN_SUMMARY(), callback_data=cb.StatsCb(view=cb.StatsView.SUMMARY, period=period))
    _menu_button(b, t.BTN_MENU(), cb.MenuAction.HOME)
    sizes.append(2)
    b.adjust(*sizes)
    return b.as_markup()


def export_periods() -> InlineKeyboardMarkup:
    """/export: one button per period."""
    b = InlineKeyboardBuilder()
    for period in Period:
        b.button(text=stt.btn_period(period, False), callback_data=cb.ExportCb(period=period))
    _menu_button(b, t.BTN_MENU(), cb.MenuAction.HOME)
    b.adjust(len(Period), 1)
    return b.as_markup()
