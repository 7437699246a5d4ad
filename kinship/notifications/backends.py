"""Where messages go: GOV.UK Notify, or the log when no Notify key is configured (the default for `make run`).

Both speak ``NotificationBackend``. The Notify key stays in the server's settings: it is handed to the Notify
client and to nothing else, and never written to a log or a record (errors keep Notify's message only).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings

from .models import Channel, Status

logger = logging.getLogger(__name__)

#: Notify's status words (email and text message) and what they mean for us.
NOTIFY_STATUSES: dict[str, Status] = {
    "created": Status.SENDING,
    "sending": Status.SENDING,
    "pending": Status.SENDING,
    "accepted": Status.SENDING,
    "sent": Status.SENT,
    "delivered": Status.DELIVERED,
    "received": Status.DELIVERED,
    "permanent-failure": Status.FAILED,
    "temporary-failure": Status.FAILED,
    "technical-failure": Status.FAILED,
    "validation-failed": Status.FAILED,
    "cancelled": Status.FAILED,
}


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the backend said: its id for the message, our status and its own status word."""

    notify_id: str
    status: Status
    notify_status: str


class SendFailed(Exception):
    """The backend did not take the message. ``retry``: worth trying again later (network, Notify 5xx/429)."""

    def __init__(self, message: str, *, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry


class NotificationBackend(Protocol):
    def send(
        self,
        *,
        channel: Channel,
        recipient: str,
        template_id: str,
        personalisation: dict[str, str],
        reference: str,
    ) -> Receipt: ...

    def status(self, notify_id: str) -> Receipt: ...


def _masked(recipient: str) -> str:
    if "@" in recipient:
        local, _, domain = recipient.partition("@")
        return f"{local[:1]}***@{domain}"
    return f"***{recipient[-3:]}"


class LogBackend:
    """Writes each message to the log and counts it as sent; nothing leaves the machine."""

    def send(
        self,
        *,
        channel: Channel,
        recipient: str,
        template_id: str,
        personalisation: dict[str, str],
        reference: str,
    ) -> Receipt:
        logger.info(
            "Notification %s by %s to %s (log backend, not sent)\nSubject: %s\n%s",
            reference,
            channel,
            _masked(recipient),
            personalisation.get("subject", ""),
            personalisation.get("body", ""),
        )
        return Receipt(notify_id=f"log-{uuid.uuid4()}", status=Status.SENT, notify_status="logged")

    def status(self, notify_id: str) -> Receipt:
        return Receipt(notify_id=notify_id, status=Status.SENT, notify_status="logged")


class NotifyBackend:
    """GOV.UK Notify through notifications-python-client (``POST /v2/notifications/{email,sms}``)."""

    def __init__(self, *, api_key: str, base_url: str, timeout: int = 10) -> None:
        self._api_key = api_key
        self.base_url = base_url
        self.timeout = timeout

    def __repr__(self) -> str:  # the key must never show up in a traceback or a log
        return f"NotifyBackend(base_url={self.base_url!r})"

    def _client(self) -> Any:
        from notifications_python_client.notifications import NotificationsAPIClient

        # The client is not thread-safe; one per call costs nothing next to the HTTP request.
        return NotificationsAPIClient(self._api_key, base_url=self.base_url, timeout=self.timeout)

    def send(
        self,
        *,
        channel: Channel,
        recipient: str,
        template_id: str,
        personalisation: dict[str, str],
        reference: str,
    ) -> Receipt:
        client = self._client()
        try:
            if channel == Channel.EMAIL:
                answer = client.send_email_notification(
                    email_address=recipient,
                    template_id=template_id,
                    personalisation=personalisation,
                    reference=reference,
                )
            else:
                answer = client.send_sms_notification(
                    phone_number=recipient,
                    template_id=template_id,
                    personalisation=personalisation,
                    reference=reference,
                )
        except Exception as error:
            raise _failure(error) from None
        return Receipt(notify_id=str(answer["id"]), status=Status.SENDING, notify_status="created")

    def status(self, notify_id: str) -> Receipt:
        try:
            answer = self._client().get_notification_by_id(notify_id)
        except Exception as error:
            raise _failure(error) from None
        word = str(answer.get("status", ""))
        return Receipt(
            notify_id=notify_id, status=NOTIFY_STATUSES.get(word, Status.SENDING), notify_status=word
        )


def _failure(error: Exception) -> SendFailed:
    from notifications_python_client.errors import HTTPError

    if isinstance(error, HTTPError):
        code = error.status_code
        return SendFailed(f"Notify answered {code}: {error.message}", retry=code == 429 or code >= 500)
    return SendFailed(f"Could not reach Notify: {type(error).__name__}", retry=True)


def get_backend() -> NotificationBackend:
    if not settings.NOTIFY_API_KEY:
        return LogBackend()
    return NotifyBackend(
        api_key=settings.NOTIFY_API_KEY,
        base_url=settings.NOTIFY_BASE_URL,
        timeout=settings.NOTIFY_TIMEOUT_SECONDS,
    )
