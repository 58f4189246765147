"""The charts the bot has shown lately in each Slack conversation, by what they show.

Asked again for a chart it has shown in a conversation already (the same kind, title and
data: one project's figures as of one day, for one audience), the bot shows that file
again in an image block that names it (`slack_file`), one chat.postMessage. Uploading it
anew is three calls (files_upload_v2: an upload URL, the upload, its completion) and one
more copy of the same picture in the person's files. A file that is gone (deleted by a
person) makes Slack refuse the block: the chart is forgotten and uploaded afresh."""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from bot.messages import Chart
from bot.views.drawing import chart_key

KEPT_CHARTS = 4096  # conversations x charts; a key is a few dozen bytes

Shown = tuple[str, str, str]  # (the bot's user id, conversation, chart digest)


def chart_digest(chart: Chart) -> str:
    """Everything the picture (bot.views.drawing's key) and its title and file name were
    made from, in 32 hex digits."""
    made_from = "\0".join((*chart_key(chart), chart.alt, chart.name))
    return hashlib.blake2b(made_from.encode(), digest_size=16).hexdigest()


def shown_key(bot_user_id: str, channel: str, chart: Chart) -> Shown:
    """One installation's chart in one conversation."""
    return (bot_user_id, channel, chart_digest(chart))


class ShownCharts:
    """File ids of charts uploaded lately, by installation (its bot user), conversation and
    chart. Only ever looked up for the same conversation: a file is shown again only to
    the people who could see it already."""

    def __init__(self, size: int = KEPT_CHARTS) -> None:
        self.size = size
        self._files: OrderedDict[Shown, str] = OrderedDict()

    def file_id(self, key: Shown) -> str | None:
        found = self._files.get(key)
        if found is not None:
            self._files.move_to_end(key)
        return found

    def remember(self, key: Shown, file_id: str) -> None:
        self._files[key] = file_id
        self._files.move_to_end(key)
        while len(self._files) > self.size:
            self._files.popitem(last=False)

    def forget(self, key: Shown) -> None:
        self._files.pop(key, None)
