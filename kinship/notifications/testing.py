"""A local fake of GOV.UK Notify's API for integration tests: a small HTTP server on 127.0.0.1 in a thread.

It checks every request's JSON Web Token as Notify does (HS256, ``iss`` = the service id, signed with the key's
secret, ``iat`` within 30 seconds), records the requests, answers ``POST /v2/notifications/email`` and
``/sms`` with Notify-shaped bodies and ``GET /v2/notifications/<id>`` with the message and its status.
Nothing in the service imports this module.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt


@dataclass
class Recorded:
    method: str
    path: str
    body: dict[str, Any]
    issuer: str


@dataclass
class FakeNotify:
    service_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    secret: str = field(default_factory=lambda: str(uuid.uuid4()))
    requests: list[Recorded] = field(default_factory=list)
    #: Notifications sent, by id: the request body plus ``type`` and ``status``.
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The status new messages get (Notify says "created" at first); ``set_status`` moves one on.
    initial_status: str = "created"
    #: (status code, error type, message) to answer the next POST with, once.
    fail_next: tuple[int, str, str] | None = None
    rejected_tokens: int = 0
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def api_key(self) -> str:
        """The key format Notify issues: ``name-<service uuid>-<secret uuid>``."""
        return f"kinship_test-{self.service_id}-{self.secret}"

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the fake first"
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    def set_status(self, notify_id: str, status: str) -> None:
        with self._lock:
            self.sent[notify_id]["status"] = status

    def start(self) -> FakeNotify:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet in tests
                return

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _error(self, status: int, kind: str, message: str) -> None:
                self._answer(status, {"status_code": status, "errors": [{"error": kind, "message": message}]})

            def _issuer(self) -> str | None:
                header = self.headers.get("Authorization", "")
                if not header.startswith("Bearer "):
                    return None
                try:
                    claims = jwt.decode(
                        header.removeprefix("Bearer "),
                        fake.secret,
                        algorithms=["HS256"],
                        options={"require": ["iss", "iat"], "verify_iat": False},
                    )
                except jwt.PyJWTError:
                    return None
                if claims["iss"] != fake.service_id or abs(time.time() - int(claims["iat"])) > 30:
                    return None
                return str(claims["iss"])

            def do_POST(self) -> None:
                issuer = self._issuer()
                if issuer is None:
                    fake.rejected_tokens += 1
                    self._error(403, "AuthError", "Invalid token: signature, api token not found")
                    return
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    self._error(400, "ValidationError", "Invalid JSON")
                    return
                with fake._lock:
                    fake.requests.append(Recorded("POST", self.path, body, issuer))
                    failure, fake.fail_next = fake.fail_next, None
                if failure is not None:
                    self._error(*failure)
                    return
                kind = {"/v2/notifications/email": "email", "/v2/notifications/sms": "sms"}.get(self.path)
                if kind is None:
                    self._error(404, "NotFound", "Not found")
                    return
                address = "email_address" if kind == "email" else "phone_number"
                missing = [name for name in (address, "template_id") if not body.get(name)]
                if missing:
                    self._error(400, "ValidationError", f"{missing[0]} is a required property")
                    return
                personalisation = body.get("personalisation") or {}
                notify_id = str(uuid.uuid4())
                with fake._lock:
                    fake.sent[notify_id] = {**body, "type": kind, "status": fake.initial_status}
                content: dict[str, Any] = {"body": personalisation.get("body", "")}
                if kind == "email":
                    content |= {
                        "subject": personalisation.get("subject", ""),
                        "from_email": "kinship@notify.test",
                    }
                else:
                    content |= {"from_number": "Kinship"}
                self._answer(
                    201,
                    {
                        "id": notify_id,
                        "reference": body.get("reference"),
                        "content": content,
                        "uri": f"{fake.base_url}/v2/notifications/{notify_id}",
                        "template": {
                            "id": body["template_id"],
                            "version": 1,
                            "uri": f"{fake.base_url}/v2/template/{body['template_id']}",
                        },
                    },
                )

            def do_GET(self) -> None:
                issuer = self._issuer()
                if issuer is None:
                    fake.rejected_tokens += 1
                    self._error(403, "AuthError", "Invalid token: signature, api token not found")
                    return
                with fake._lock:
                    fake.requests.append(Recorded("GET", self.path, {}, issuer))
                prefix = "/v2/notifications/"
                notify_id = self.path.removeprefix(prefix) if self.path.startswith(prefix) else ""
                with fake._lock:
                    found = dict(fake.sent.get(notify_id, {}))
                if not found:
                    self._error(404, "NoResultFound", "No result found")
                    return
                self._answer(
                    200,
                    {
                        "id": notify_id,
                        "reference": found.get("reference"),
                        "email_address": found.get("email_address"),
                        "phone_number": found.get("phone_number"),
                        "type": found["type"],
                        "status": found["status"],
                        "template": {"id": found["template_id"], "version": 1},
                        "body": (found.get("personalisation") or {}).get("body", ""),
                        "subject": (found.get("personalisation") or {}).get("subject"),
                    },
                )

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeNotify:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
