"""Failure classification: does retrying help? 4xx (but 408/429) no; 5xx, 429, timeouts yes."""

from __future__ import annotations

import httpx
import pytest

from alerts.notify.base import NotifyError, check_robot_reply, post


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (408, True),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
    ],
)
async def test_http_status(status: int, retryable: bool) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(status, text="nope"))
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(NotifyError) as raised:
            await post(client, "http://robot/send", json_body={})
    assert raised.value.retryable is retryable
    assert str(status) in str(raised.value)


async def test_connection_refused_is_retryable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
        with pytest.raises(NotifyError) as raised:
            await post(client, "http://robot/send", json_body={})
    assert raised.value.retryable


@pytest.mark.parametrize(
    ("body", "outcome"),
    [
        ({"errcode": 0, "errmsg": "ok"}, "ok"),
        ({"errcode": 130101, "errmsg": "send too fast"}, "retry"),
        ({"errcode": 310000, "errmsg": "sign not match"}, "fail"),
    ],
)
def test_robot_error_codes_in_a_200(body: dict[str, object], outcome: str) -> None:
    response = httpx.Response(200, json=body)
    if outcome == "ok":
        check_robot_reply(response, code_field="errcode", retry_codes={130101})
        return
    with pytest.raises(NotifyError) as raised:
        check_robot_reply(response, code_field="errcode", retry_codes={130101})
    assert raised.value.retryable is (outcome == "retry")
