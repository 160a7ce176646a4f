"""Real HTTP receivers on 127.0.0.1 for the reminder channels: a Web Push service stand-in that
verifies the VAPID JWT and decrypts the aes128gcm payload, and a WeCom-style webhook receiver."""

from __future__ import annotations

import base64
import json
import os
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid.jwt import decode as decode_vapid_jwt


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class HandmadeSubscription:
    """What a browser's PushSubscription holds, made by hand: a P-256 key pair and an auth secret."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes

    @property
    def p256dh(self) -> str:
        return b64url(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)

    def to_json(self) -> dict[str, Any]:
        """The shape of PushSubscription.toJSON() in the browser."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


def verify_vapid(authorization: str, expected_key: str) -> dict[str, Any]:
    """The claims of a `vapid t=…,k=…` header; InvalidSignature if tampered or signed by another key."""
    scheme, _, params = authorization.partition(" ")
    if scheme.lower() != "vapid":
        raise InvalidSignature("not a vapid authorization")
    parts = dict(p.split("=", 1) for p in params.split(",") if "=" in p)
    if parts.get("k") != expected_key:
        raise InvalidSignature("signed with another key")
    return dict(decode_vapid_jwt(parts.get("t", ""), parts["k"]))


class Receiver:
    """A threaded HTTP server on a free loopback port; subclasses answer POSTs."""

    def __init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, answer = receiver.handle(self.path, headers, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.lock = threading.Lock()
        self.answers: defaultdict[str, deque[int]] = defaultdict(deque)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def answer(self, key: str, *statuses: int) -> None:
        """Answer the next requests for `key` with these statuses, then the default."""
        with self.lock:
            self.answers[key].extend(statuses)

    def next_status(self, key: str, default: int) -> int:
        with self.lock:
            queue = self.answers[key]
            return queue.popleft() if queue else default

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        raise NotImplementedError

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class PushMessage:
    subscription: str
    claims: dict[str, Any]
    payload: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class PushService(Receiver):
    """A push service at /push/<id>: checks the VAPID JWT against the server's public key and
    decrypts the payload with the subscription's private key, as a browser would."""

    def __init__(self, vapid_public_key: str) -> None:
        super().__init__()
        self.vapid_public_key = vapid_public_key
        self.subscriptions: dict[str, HandmadeSubscription] = {}
        self.received: list[PushMessage] = []
        self.rejected: list[tuple[str, str]] = []

    def subscription(self, name: str) -> HandmadeSubscription:
        sub = HandmadeSubscription(
            endpoint=f"{self.url}/push/{name}",
            private_key=ec.generate_private_key(ec.SECP256R1()),
            auth_secret=os.urandom(16),
        )
        self.subscriptions[name] = sub
        return sub

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        name = path.rsplit("/", 1)[-1]
        sub = self.subscriptions.get(name)
        if sub is None:
            return 404, {"error": "unknown subscription"}
        try:
            claims = verify_vapid(headers.get("authorization", ""), self.vapid_public_key)
        except (InvalidSignature, KeyError, ValueError) as exc:
            with self.lock:
                self.rejected.append((name, f"vapid: {exc!r}"))
            return 401, {"error": "bad vapid"}
        if claims.get("aud") != self.url:
            with self.lock:
                self.rejected.append((name, f"aud {claims.get('aud')}"))
            return 403, {"error": "wrong audience"}
        status = self.next_status(name, 201)
        if status >= 300:
            return status, {"error": "as told"}
        plain = http_ece.decrypt(
            body, private_key=sub.private_key, auth_secret=sub.auth_secret, version="aes128gcm"
        )
        with self.lock:
            self.received.append(PushMessage(name, claims, json.loads(plain), headers))
        return status, {}


class WebhookReceiver(Receiver):
    """A WeCom group-robot stand-in: records every JSON body; answers errcode 0 unless told."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[dict[str, Any]] = []
        self.errcodes: deque[int] = deque()

    def refuse_next(self, errcode: int) -> None:
        """Answer the next message 200 with this WeCom errcode (e.g. 45009, rate limit)."""
        with self.lock:
            self.errcodes.append(errcode)

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        status = self.next_status("webhook", 200)
        if status != 200:
            return status, {"errcode": -1, "errmsg": "as told"}
        with self.lock:
            errcode = self.errcodes.popleft() if self.errcodes else 0
            if errcode == 0:
                self.messages.append(json.loads(body))
        return 200, {"errcode": errcode, "errmsg": "ok" if errcode == 0 else "api freq out of limit"}
