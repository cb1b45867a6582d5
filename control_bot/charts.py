"""Charts of deliveries per day (PNG), sent as a photo by /stats and the admin's /health.

matplotlib is imported inside ``render_deliveries`` only (it costs tens of MB and most of a second: a
service that never draws a chart never pays it), with the Agg backend through the object API (no pyplot:
no global figure state, so two charts drawn in two threads at once do not meet). Drawing runs in a worker
thread (``send_chart``): the event loop keeps serving while a chart is made.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from aiogram import Bot
from aiogram.types import BufferedInputFile

from control_bot.services import stats
from control_bot.services.stats import DayFigure
from core.i18n import tz
from core.texts import stats as stats_texts
from storage.db import Database

logger = logging.getLogger(__name__)

__all__ = ["ChartLabels", "render_deliveries", "send_chart", "send_service_chart"]

_DELIVERED = "#2e9e55"
_FAILED = "#d9534f"
_IN_DOUBT = "#9aa0a6"
WIDTH_IN, HEIGHT_IN, DPI = 10.0, 5.0, 100  # 1000 x 500 px: well inside a Telegram photo's limits


@dataclass(frozen=True)
class ChartLabels:
    """The chart's words, already in the reader's language."""

    title: str
    delivered: str
    failed: str
    in_doubt: str


def render_deliveries(days: Sequence[DayFigure], labels: ChartLabels) -> bytes:
    """A stacked bar per day (delivered, failed, in doubt) as PNG bytes. Blocking: run it in a thread."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    xs = list(range(len(days)))
    delivered = [d.counts.delivered for d in days]
    failed = [d.counts.failed for d in days]
    in_doubt = [d.counts.in_doubt for d in days]
    axes.bar(xs, delivered, color=_DELIVERED, label=labels.delivered)
    axes.bar(xs, failed, bottom=delivered, color=_FAILED, label=labels.failed)
    axes.bar(xs, in_doubt, bottom=[a + b for a, b in zip(delivered, failed, strict=True)], color=_IN_DOUBT,
             label=labels.in_doubt)
    step = max(1, len(days) // 15)  # at most ~15 dates under the bars
    axes.set_xticks(xs[::step], [d.day.strftime("%d.%m") for d in days][::step], rotation=45, ha="right")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylim(bottom=0)
    axes.set_title(labels.title)
    axes.grid(axis="y", alpha=0.3)
    axes.legend(loc="upper left")
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


async def send_chart(bot: Bot, chat_id: int, days: Sequence[DayFigure], labels: ChartLabels, caption: str) -> None:
    """Draw the chart off the event loop and send it as a photo."""
    png = await asyncio.to_thread(render_deliveries, days, labels)
    await bot.send_photo(chat_id, BufferedInputFile(png, filename="deliveries.png"), caption=caption)


async def send_service_chart(bot: Bot, chat_id: int, db: Database, now: float) -> None:
    """The admin's /health: every customer's deliveries per day over the last 30 days (in the admin's
    zone), sent after the report when there was any send. The report is already out: a chart that cannot
    be made is logged and left out, never answered with an error after a good report."""
    try:
        days = await stats.service_series(db, now, tz())
        if not any(d.counts.tried for d in days):
            return
        ok, failed, in_doubt = stats_texts.chart_labels()
        delivered = sum(d.counts.delivered for d in days)
        labels = ChartLabels(stats_texts.chart_title("30d", len(days)), ok, failed, in_doubt)
        await send_chart(bot, chat_id, days, labels, stats_texts.service_chart_caption(len(days), delivered))
    except Exception:  # an addition to a report already sent (see above)
        logger.warning("the /health chart could not be made", exc_info=True)
