"""A local HTTP server that plays DingTalk, Feishu, WeCom and a generic webhook receiver.

It checks what the real services check, by their published algorithms — written out here
again on purpose, not imported from ``alerts.notify`` — and answers as they do:

    POST /robot/send?access_token=…&timestamp=…&sign=…   DingTalk 加签 + markdown shape
    POST /open-apis/bot/v2/hook/<token>                    Feishu signature (in the body)
    POST /cgi-bin/webhook/send?key=…                       WeCom markdown shape and size
    POST /hook                                             X-Peakwatch-Signature HMAC

Runs in a thread (``start``/``stop``), can be restarted on the same port.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ONE_HOUR_MS = 3_600_000


@dataclass
class Received:
    """One request and the receiver's verdict on it."""

    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    accepted: bool

    def json(self) -> Any:
        """The body, parsed."""
        return json.loads(self.body)


@dataclass
class RobotReceiver:
    """The fake robots; ``received`` keeps every request in arrival order."""

    dingtalk_secret: str = "SECdingtalk"
    feishu_secret: str = "feishu-secret"
    webhook_secret: str = "webhook-secret"
    port: int = 0
    delay_s: float = 0.0
    """How long each answer takes (a slow receiver)."""
    received: list[Received] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> RobotReceiver:
        """Listen (on ``port``, or a free one the first time)."""
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                owner._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening (connections are then refused)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def accepted(self, path_part: str = "") -> list[Received]:
        """Requests that passed the checks, optionally only those whose path contains a part."""
        return [r for r in self.received if r.accepted and path_part in r.path]

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        if self.delay_s:
            time.sleep(self.delay_s)
        parts = urlsplit(handler.path)
        body = handler.rfile.read(int(handler.headers.get("Content-Length", "0")))
        query = parse_qs(parts.query)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        if parts.path == "/robot/send":
            status, answer, ok = self._dingtalk(query, body)
        elif parts.path.startswith("/open-apis/bot/v2/hook/"):
            status, answer, ok = self._feishu(body)
        elif parts.path == "/cgi-bin/webhook/send":
            status, answer, ok = self._wecom(query, body)
        else:
            status, answer, ok = self._webhook(headers, body)
        self.received.append(Received(parts.path, query, headers, body, ok))
        payload = json.dumps(answer).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def _dingtalk(self, query: dict[str, list[str]], body: bytes) -> tuple[int, Any, bool]:
        timestamp = query.get("timestamp", [""])[0]
        sign = query.get("sign", [""])[0]  # parse_qs has already url-decoded it
        secret = self.dingtalk_secret
        expected = base64.b64encode(
            hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
        ).decode()
        fresh = timestamp.isdigit() and abs(time.time() * 1000 - int(timestamp)) < ONE_HOUR_MS
        if not (fresh and hmac.compare_digest(sign, expected)):
            return 200, {"errcode": 310000, "errmsg": "sign not match"}, False
        message = json.loads(body)
        markdown = message.get("markdown", {})
        if (
            message.get("msgtype") != "markdown"
            or not markdown.get("title")
            or not markdown.get("text")
        ):
            return 200, {"errcode": 40035, "errmsg": "bad markdown message"}, False
        return 200, {"errcode": 0, "errmsg": "ok"}, True

    def _feishu(self, body: bytes) -> tuple[int, Any, bool]:
        message = json.loads(body)
        timestamp, sign = str(message.get("timestamp", "")), message.get("sign", "")
        key = f"{timestamp}\n{self.feishu_secret}".encode()
        expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
        fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) < 3600
        if not (fresh and hmac.compare_digest(sign, expected)):
            return (
                200,
                {"code": 19021, "msg": "sign match fail or timestamp is not within one hour"},
                False,
            )
        if message.get("msg_type") != "interactive" or "header" not in message.get("card", {}):
            return 200, {"code": 9499, "msg": "Bad Request"}, False
        return 200, {"code": 0, "msg": "success"}, True

    def _wecom(self, query: dict[str, list[str]], body: bytes) -> tuple[int, Any, bool]:
        message = json.loads(body)
        content = message.get("markdown", {}).get("content", "")
        if not query.get("key") or message.get("msgtype") != "markdown" or not content:
            return 200, {"errcode": 40008, "errmsg": "invalid message type"}, False
        if len(content.encode()) > 4096:
            return (
                200,
                {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"},
                False,
            )
        return 200, {"errcode": 0, "errmsg": "ok"}, True

    def _webhook(self, headers: dict[str, str], body: bytes) -> tuple[int, Any, bool]:
        timestamp = headers.get("x-peakwatch-timestamp", "")
        signature = headers.get("x-peakwatch-signature", "")
        digest = hmac.new(
            self.webhook_secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
        )
        fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) < 300
        if not (fresh and hmac.compare_digest(signature, f"sha256={digest.hexdigest()}")):
            return 401, {"error": "bad signature"}, False
        return 200, {"ok": True}, True
