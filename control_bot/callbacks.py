"""Every ``CallbackData`` factory of the control bot (64 bytes max; the client can forge them, so
handlers validate what they refer to)."""

from __future__ import annotations

from enum import StrEnum

from aiogram import F
from aiogram.filters.callback_data import CallbackData, CallbackQueryFilter

from core.periods import Period

# --- customer side ---------------------------------------------------------------------------------

class MenuAction(StrEnum):
    HOME = "home"
    HELP = "help"
    POST = "post"
    SET_POST = "setpost"
    GROUPS = "groups"
    ADD_GROUPS = "addgroups"
    DEL_GROUP = "delgroup"
    DEFAULT_GROUPS = "defaults"
    INTERVAL = "interval"
    INTERVAL_OTHER = "intother"
    SCHEDULE = "schedule"
    RUN = "run"
    STOP = "stop"
    STATUS = "status"
    STATS = "stats"
    LOGS = "logs"
    LOG_FILE = "logfile"
    CANCEL = "cancel"


class MenuCb(CallbackData, prefix="cm"):
    """A customer menu button; an unknown action fails to unpack, so no handler matches it."""

    action: MenuAction


def menu_button(action: MenuAction) -> CallbackQueryFilter:
    """The filter for one customer menu button."""
    return MenuCb.filter(F.action == action)


class GroupsPageCb(CallbackData, prefix="cgp"):
    page: int


class GroupResumeCb(CallbackData, prefix="cgr"):
    """Resume one paused group: ``group_id`` is checked against the presser's own groups."""

    group_id: int


class IntervalCb(CallbackData, prefix="ci"):
    """A preset interval; the bounds are checked again when it is pressed."""

    minutes: int


# --- admin side ------------------------------------------------------------------------------------


class AdminAction(StrEnum):
    POOL = "pool"
    PAIRS = "pairs"
    CUSTOMERS = "customers"
    HEALTH = "health"
    DEFAULT_GROUPS = "dgroups"
    CHECK_SESSIONS = "check"
    REACH = "reach"
    JOINS = "joins"
    PANEL = "panel"


class AdminCb(CallbackData, prefix="adm"):
    """A button of the admin panel; an unknown action fails to unpack, so the handler never matches."""

    action: AdminAction


def admin_button(action: AdminAction) -> CallbackQueryFilter:
    """The filter for one admin panel button."""
    return AdminCb.filter(F.action == action)


class ReachCb(CallbackData, prefix="arc"):
    """Open (or refresh) one customer's reach screen."""

    customer_id: int


class ReachSwapCb(CallbackData, prefix="ars"):
    """Swap: the customer's session ``give`` back to the pool, the free session ``take`` to them. Every id
    is checked again when pressed (``services.admin_reach.swap_session``). At most 63 bytes packed."""

    customer_id: int
    give: int
    take: int


class ReachJoinCb(CallbackData, prefix="arj"):
    """Join: the customer's sessions queue a join of one of their groups (a public one none of them is in).
    The group is looked up again by id when pressed, as the customer's."""

    customer_id: int
    group_id: int


class JoinAction(StrEnum):
    QUEUE = "q"
    CANCEL = "x"


class JoinCb(CallbackData, prefix="aj"):
    """Queue (or not) the joins an invite preview showed; ``draft`` names the preview, kept in memory by
    the joins router (a forged or stale one is not found)."""

    action: JoinAction
    draft: int


# --- /settings (issue 18 part A1) ------------------------------------------------------------------


class SettingsAction(StrEnum):
    SHOW = "show"  # the settings screen
    LANGUAGES = "langs"  # the language picker
    SET_LANGUAGE = "lang"  # value: a locale ("en", "ru", "pt_BR")
    ZONES = "zones"  # the time zone picker
    SET_ZONE = "zone"  # value: an IANA zone name
    ZONE_OTHER = "zoneother"  # "send a zone name or an offset"
    LEVELS = "levels"  # the notification level picker
    SET_LEVEL = "level"  # value: a core.states.NotifyLevel
    CLOSE = "close"


class SettingsCb(CallbackData, prefix="st"):
    """A /settings button; ``value`` is checked again when pressed (a forged locale, zone or level changes
    nothing). IANA names hold no ':' (the separator) and fit in 64 bytes with the prefix."""

    action: SettingsAction
    value: str = ""


def settings_button(action: SettingsAction) -> CallbackQueryFilter:
    return SettingsCb.filter(F.action == action)


# --- issue 18 part D ---


class OnboardingAction(StrEnum):
    REQUEST = "req"  # a stranger (or a customer whose plan ended) asks for access


class OnboardingCb(CallbackData, prefix="ob"):
    action: OnboardingAction


class CardAction(StrEnum):
    GRANT = "g"  # a plan preset: (sessions, days), checked against ``[bot] plan_presets`` when pressed
    OTHER = "o"  # how to give another plan (/grant)
    DECLINE = "d"


class AccessCardCb(CallbackData, prefix="acr"):
    """A button of an admin's access-request card; ``user_id`` is the person who asked. Admin rights and
    the request being still open are checked when pressed."""

    action: CardAction
    user_id: int
    sessions: int = 0
    days: int = 0


# --- issue 18 part E ---


class PostHeaderCb(CallbackData, prefix="ph"):
    """The preview's switch: a link post forwarded without ("drop") or with its "Forwarded from" header."""

    drop: bool


# --- issue 18 part F ---


class GroupRemoveCb(CallbackData, prefix="cgd"):
    """Remove one group (its 🗑 button on /groups): ``group_id`` is checked against the presser's own
    groups; ``page``: the page to show again."""

    group_id: int
    page: int


class GroupsPickCb(CallbackData, prefix="cgk"):
    """Open the group picker (a reply keyboard with Telegram's chat-request button)."""


# --- issue 18 part G ---


class NotifyAction(StrEnum):
    DETAILS = "details"  # the customer's latest log lines, as a new message
    STOP = "stop"  # stop the campaign
    FIX_GROUPS = "fixgroups"  # the groups screen, as a new message


class NotifyCb(CallbackData, prefix="nt"):
    """A button under a notification (the cycle summary): each answers with a new message, so the
    notification stays where it is."""

    action: NotifyAction


def notify_button(action: NotifyAction) -> CallbackQueryFilter:
    return NotifyCb.filter(F.action == action)


# --- issue 18 part H ---


class PlanAction(StrEnum):
    CONFIRM = "ok"
    CANCEL = "no"


class PlanConfirmCb(CallbackData, prefix="hp"):
    """Confirm or cancel a proposed plan change. ``token`` names the proposal (``services.plans``: bound
    to the admin, single use, short-lived): a forged, used or stale one changes nothing."""

    action: PlanAction
    token: str


class PlanPresetCb(CallbackData, prefix="hg"):
    """A plan button for one person (/grant and part D's access-request card): proposes the change, which
    is shown before -> after; the numbers are checked again when pressed."""

    user_id: int
    sessions: int
    days: int


PICK_PERSON_REQUEST_ID = 18
"""``request_id`` of /grant's "Pick a person" button (``KeyboardButtonRequestUsers``): the
``users_shared`` answer carrying it is the admin's pick."""


# --- issue 19 part A ---


class PostsAction(StrEnum):
    LIST = "l"  # the list (page: unused)
    OPEN = "o"  # one post's screen
    PREVIEW = "p"  # the post sent here as groups will see it
    UP = "u"
    DOWN = "d"
    REMOVE = "r"  # ask to confirm
    REMOVE_YES = "rx"
    PREVIEW_ON = "w1"  # a text post's link preview on / off
    PREVIEW_OFF = "w0"
    ADD = "a"  # the post intake, in add mode
    ROTATION = "rt"  # the rotation picker
    SET_ROTATION = "rs"  # value: 'order' | 'random' | 'fixed'
    COPY = "c"  # the copy options
    SET_COPY = "cs"  # value: 'header' | 'noheader' | 'nocaptions'
    GROUPS = "g"  # the post of each group (page)
    GROUP = "gp"  # one group's post picker (group)
    SET_GROUP = "gs"  # group gets post (0: follows the order)


class PostsCb(CallbackData, prefix="cps"):
    """A /posts button. ``post`` and ``group`` are ids checked against the presser's own posts and groups
    when pressed (a forged or stale one changes nothing); ``value`` is checked against the known choices."""

    action: PostsAction
    post: int = 0
    group: int = 0
    page: int = 0
    value: str = ""


def posts_button(action: PostsAction) -> CallbackQueryFilter:
    return PostsCb.filter(F.action == action)


class PostChoice(StrEnum):
    REPLACE = "r"
    ADD = "a"
    CANCEL = "x"


class PostChoiceCb(CallbackData, prefix="pch"):
    """/post with several posts: what the post just received does. ``token`` names the held post (kept in
    memory by ``routers.customer_post``, per presser, short-lived): a forged or stale one changes nothing."""

    action: PostChoice
    token: str



# --- issue 19 part B ---


class ScheduleAction(StrEnum):
    SHOW = "show"
    DAY = "day"  # value: the weekday, Monday 0
    DAYS = "days"  # value: a preset bit mask
    HOURS = "hours"  # value: start * 1440 + end (minutes)
    OTHER = "other"
    DONE = "done"


class ScheduleCb(CallbackData, prefix="sch"):
    """A /schedule button; the values are checked again when pressed."""

    action: ScheduleAction
    value: int = 0


def schedule_button(action: ScheduleAction) -> CallbackQueryFilter:
    return ScheduleCb.filter(F.action == action)


# --- issue 19 part S ---


class StatsView(StrEnum):
    SUMMARY = "s"
    GROUPS = "g"
    CHART = "c"


class StatsCb(CallbackData, prefix="sts"):
    """A /stats screen: the view, the period (``core.periods.Period``: an unknown one fails to unpack),
    and the page of the per-group view."""

    view: StatsView
    period: Period
    page: int = 0


class ExportCb(CallbackData, prefix="exp"):
    """Export the presser's send attempts of one period as CSV."""

    period: Period


# --- issue 20 part C ---
