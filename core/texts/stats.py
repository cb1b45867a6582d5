"""/stats by period, per group, and the chart of deliveries per day (HTML; user data through ``esc()``).

The all-time screen is ``core.texts.status.stats``; here the periods' screens, the per-group pages with
the proof of posting (the last delivery's public link) and the chart's words.
"""

from __future__ import annotations

from core.i18n import _, num, tz
from core.texts.fmt import esc, fmt_time
from core.texts.split import take_fitting, utf16_len

__all__ = [
    "BTN_CHART",
    "BTN_EXPORT",
    "BTN_PER_GROUP",
    "BTN_SUMMARY",
    "CHART_EMPTY",
    "btn_period",
    "chart_caption",
    "chart_labels",
    "group_page",
    "period_name",
    "period_screen",
    "service_chart_caption",
]


def period_name(period: str) -> str:
    """A period as a heading says it."""
    if period == "today":
        return _("today")
    if period == "7d":
        return _("last 7 days")
    if period == "30d":
        return _("last 30 days")
    return _("all time")


def btn_period(period: str, current: bool) -> str:
    if period == "today":
        label = _("Today")
    elif period == "7d":
        label = _("7 days")
    elif period == "30d":
        label = _("30 days")
    else:
        label = _("All time")
    return f"• {label}" if current else label


def BTN_PER_GROUP() -> str:
    return _("👥 Per group")


def BTN_CHART() -> str:
    return _("📈 Chart")


def BTN_SUMMARY() -> str:
    return _("📊 Summary")


def BTN_EXPORT() -> str:
    return _("📤 Export")


def _figures(delivered: int, failed: int, in_doubt: int, skipped: int) -> list[str]:
    lines = [_("Delivered: {n}", n=num(delivered)), _("Failed: {n}", n=num(failed))]
    if in_doubt:
        lines.append(_("Unconfirmed (no new message seen, not repeated): {n}", n=num(in_doubt)))
    if skipped:
        lines.append(_("Skipped (slow mode): {n}", n=num(skipped)))
    return lines


def period_screen(period: str, since: float | None, delivered: int, failed: int, in_doubt: int, skipped: int,
                  now: float) -> str:
    """One period's figures (today, 7 or 30 days)."""
    head = _("<b>Stats: {period}</b>", period=period_name(period))
    if since is not None:
        head += "\n" + _("since {when}", when=fmt_time(since))
    lines = [head, *_figures(delivered, failed, in_doubt, skipped)]
    if not delivered + failed + in_doubt + skipped:
        lines.append(_("Nothing was sent in this period."))
    return "\n".join(lines) + "\n\n" + _("<i>as of {now}</i>", now=fmt_time(now))


def group_block(
    number: int,
    ref: str,
    title: str | None,
    delivered: int,
    failed: int,
    in_doubt: int,
    last_at: float | None,
    link: str | None,
    state: str,
) -> str:
    """One group of the per-group page: its figures in the period, its last delivery (with the public link
    to the message when the group is public) and its state now."""
    head = f"{num(number)}. <code>{esc(ref)}</code>" + (f" {esc(title)}" if title else "")
    figures = _("✅ {ok} delivered · ❌ {failed} failed", ok=num(delivered), failed=num(failed))
    if in_doubt:
        figures += " · " + _("❔ {n} unconfirmed", n=num(in_doubt))
    if last_at is None:
        last = _("No delivery yet")
    elif link is not None:
        last = _("Last delivery: {when} {link}", when=fmt_time(last_at), link=esc(link))
    else:
        last = _("Last delivery: {when}", when=fmt_time(last_at))
    return "\n".join([head, "   " + figures, "   " + last, "   " + _("Now: {state}", state=esc(state))])


def group_page(period: str, blocks: list[str], first: int, total: int, page: int, pages: int, now: float) -> str:
    head = _("<b>Per group: {period}</b>", period=period_name(period))
    if not total:
        return head + "\n" + _("You have no groups yet: add them with /addgroups.")
    head += "\n" + _("Groups {first}–{last} of {total} (page {page} of {pages})", first=num(first),
                     last=num(first + len(blocks) - 1), total=num(total), page=num(page + 1), pages=num(pages))
    tail = "\n\n" + _("<i>as of {now}</i>", now=fmt_time(now))
    kept = take_fitting(blocks, 3900 - utf16_len(head) - utf16_len(tail))
    return head + "\n\n" + "\n\n".join(kept) + tail


def CHART_EMPTY() -> str:
    return _("Nothing was sent yet: there is no chart to draw.")


def chart_labels() -> tuple[str, str, str]:
    """(delivered, failed, unconfirmed): the chart's legend."""
    return _("delivered"), _("failed"), _("unconfirmed")


def chart_title(period: str, days: int) -> str:
    return _("Deliveries per day: {period}", period=period_name(period)) if period != "today" else _(
        "Deliveries per day: last {n} days", n=num(days))


def service_chart_caption(days: int, delivered: int) -> str:
    return _("Every customer's deliveries per day, last {n} days (days in {zone}). Delivered in them: {total}.",
             n=num(days), zone=tz().key, total=num(delivered))


def chart_caption(period: str, days: int, delivered: int) -> str:
    return _("Deliveries per day, {n} days up to today (days in {zone}). Delivered in them: {total}.",
             n=num(days), zone=tz().key, total=num(delivered)) + (
        "" if period != "all" else "\n" + _("All time: from the first send, at most one year."))
