"""``manage.py janus_config --out DIR``: writes the Janus configuration folder for one node of JANUS_NODES."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kinship.calls.media import config


class Command(BaseCommand):
    help = "Writes a Janus configuration folder (run it with: janus -F DIR) for one of JANUS_NODES."
    # Only settings are read; the Procfile's Janus should start even while a URL or model check fails elsewhere.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--out", required=True, type=Path, help="the folder to write (created if missing)"
        )
        parser.add_argument(
            "--node", type=int, default=0, help="which entry of JANUS_NODES (default: the first)"
        )

    def handle(self, *args: Any, out: Path, node: int, **options: Any) -> None:
        if not settings.JANUS_NODES:
            raise CommandError("JANUS_NODES is empty: name at least one node.")
        if not 0 <= node < len(settings.JANUS_NODES):
            raise CommandError(f"--node must be between 0 and {len(settings.JANUS_NODES) - 1}.")
        try:
            node_config = config.JanusConfig.for_node(
                url=settings.JANUS_NODES[node],
                admin_url=settings.JANUS_ADMIN_URLS[node],
                admin_secret=settings.JANUS_ADMIN_SECRET,
                admin_key=settings.JANUS_ADMIN_KEY,
                rtp_port_range=settings.JANUS_RTP_PORT_RANGE,
                http_acl=tuple(settings.JANUS_HTTP_ACL),
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        for path in config.write(node_config, out):
            self.stdout.write(str(path))
