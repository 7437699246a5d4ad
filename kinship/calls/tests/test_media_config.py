"""The generated Janus configuration is safe by construction, and the command writes it from settings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from kinship.calls.media import config

SECRET = "s" * 24
KEY = "k" * 24


def node(**overrides: object) -> config.JanusConfig:
    arguments: dict[str, object] = {
        "url": "http://127.0.0.1:8088/janus",
        "admin_url": "http://127.0.0.1:7088/admin",
        "admin_secret": SECRET,
        "admin_key": KEY,
    }
    arguments.update(overrides)
    return config.JanusConfig.for_node(**arguments)  # type: ignore[arg-type]


def disabled(text: str, section: str) -> set[str]:
    match = re.search(section + r': \{[^}]*?disable = "([^"]*)"', text)
    assert match, section
    return set(match.group(1).split(","))


def test_only_videoroom_and_http_are_loaded(tmp_path: Path) -> None:
    files = config.render(node(), tmp_path)
    core = files["janus.jcfg"]
    assert disabled(core, "plugins") == set(config.KNOWN_PLUGINS) - {"libjanus_videoroom.so"}
    assert disabled(core, "transports") == set(config.KNOWN_TRANSPORTS) - {"libjanus_http.so"}
    assert disabled(core, "events") == set(config.KNOWN_EVENT_HANDLERS)
    assert disabled(core, "loggers") == set(config.KNOWN_LOGGERS)
    assert f'admin_secret = "{SECRET}"' in core
    assert 'rtp_port_range = "20000-20999"' in core
    assert "janusoverlord" not in "".join(files.values())


def test_apis_listen_on_one_address_behind_an_acl(tmp_path: Path) -> None:
    http = config.render(node(), tmp_path)["janus.transport.http.jcfg"]
    assert 'ip = "127.0.0.1"' in http
    assert 'acl = "127."' in http
    assert "admin_http = true" in http
    assert 'admin_ip = "127.0.0.1"' in http
    assert 'admin_acl = "127."' in http
    private = config.render(
        node(url="http://10.1.2.3:8088/janus", admin_url="http://10.1.2.3:7088/admin"), tmp_path
    )["janus.transport.http.jcfg"]
    assert 'acl = "10.1.2."' in private


def test_videoroom_needs_the_admin_key_and_has_no_demo_rooms(tmp_path: Path) -> None:
    videoroom = config.render(node(), tmp_path)["janus.plugin.videoroom.jcfg"]
    assert f'admin_key = "{KEY}"' in videoroom
    assert "room-" not in videoroom
    assert "adminpwd" not in videoroom


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"url": "http://0.0.0.0:8088/janus"}, "loopback or private"),
        ({"url": "http://8.8.8.8:8088/janus"}, "loopback or private"),
        ({"url": "http://127.0.0.1:8088/api"}, "must end in /janus"),
        ({"admin_secret": "short"}, "at least 16"),
        ({"admin_key": 'quote"' * 4}, "without quotes"),
        ({"rtp_port_range": (40000, 30000)}, "invalid RTP port range"),
    ],
)
def test_unsafe_settings_are_refused(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        node(**overrides)


def test_the_repr_leaves_secrets_out() -> None:
    assert SECRET not in repr(node())
    assert KEY not in repr(node())


def test_the_command_writes_a_private_folder(tmp_path: Path, settings: object) -> None:
    out = tmp_path / "janus"
    call_command("janus_config", "--out", str(out))
    assert sorted(p.name for p in out.iterdir()) == [
        "janus.jcfg",
        "janus.plugin.videoroom.jcfg",
        "janus.transport.http.jcfg",
    ]
    assert out.stat().st_mode & 0o777 == 0o700
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in out.iterdir())
    assert f'configs_folder = "{out.resolve()}"' in (out / "janus.jcfg").read_text()


def test_the_command_needs_a_node(tmp_path: Path, settings: object) -> None:
    settings.JANUS_NODES = []  # type: ignore[attr-defined]
    with pytest.raises(CommandError, match="JANUS_NODES is empty"):
        call_command("janus_config", "--out", str(tmp_path))
