"""The fake Slack Web API behaves like Slack for the SDK calls we make."""

from __future__ import annotations

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_api import FakeSlackApi


async def test_records_calls_and_answers_like_slack() -> None:
    async with FakeSlackApi() as api:
        api.add_user("U1", "Ann", tz="Europe/Berlin")
        client = AsyncWebClient(token="xoxb-1", base_url=api.url, retry_handlers=[])
        sent = await client.chat_postMessage(channel="C1", text="hi", blocks=[{"type": "divider"}])
        user = await client.users_info(user="U1")
        assert sent["ts"] and user["user"]["tz"] == "Europe/Berlin"
        call = api.calls_to("chat.postMessage")[0]
        assert call.token == "xoxb-1" and call.args["channel"] == "C1"
        assert call.json_arg("blocks") == [{"type": "divider"}]
        await client.files_upload_v2(channel="C1", content=b"a,b\n", filename="x.csv")
        assert api.methods()[-3:] == [
            "files.getUploadURLExternal",
            "upload",
            "files.completeUploadExternal",
        ]
        assert list(api.uploads.values()) == [b"a,b\n"]


async def test_fails_on_demand() -> None:
    async with FakeSlackApi() as api:
        client = AsyncWebClient(token="xoxb-1", base_url=api.url, retry_handlers=[])
        api.fail_next(status=429, retry_after=7)
        with pytest.raises(SlackApiError) as caught:
            await client.chat_postMessage(channel="C1", text="hi")
        assert caught.value.response.status_code == 429
        assert caught.value.response.headers["Retry-After"] == "7"
        api.fail_next(error="channel_not_found", method="chat.postMessage")
        with pytest.raises(SlackApiError) as caught:
            await client.chat_postMessage(channel="C1", text="hi")
        assert caught.value.response["error"] == "channel_not_found"
        api.fail_next(drop=True)
        with pytest.raises(aiohttp.ClientError):
            await client.chat_postMessage(channel="C1", text="hi")
        api.fail_next(status=500)
        with pytest.raises(SlackApiError) as caught:
            await client.chat_postMessage(channel="C1", text="hi")
        assert caught.value.response.status_code == 500
        assert (await client.chat_postMessage(channel="C1", text="hi"))["ok"]
        assert len(api.calls_to("chat.postMessage")) == 5


async def test_response_urls_are_recorded() -> None:
    async with FakeSlackApi() as api, aiohttp.ClientSession() as http:
        async with http.post(api.response_url("abc"), json={"text": "later"}) as response:
            assert response.status == 200
        (call,) = await api.wait_for("response_url")
        assert call.args == {"text": "later", "key": "abc"}
