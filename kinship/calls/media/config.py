"""The Janus configuration Kinship generates: one folder per node, safe by construction.

Janus's packaged defaults listen on every interface with a well-known admin secret, load every plugin and transport
and create demo rooms. This module writes a folder of our own instead (``janus -F DIR``): only the VideoRoom plugin
and the plain HTTP transport are loaded, the HTTP and admin APIs listen on one loopback or private address behind an
ACL, the admin API needs a generated secret, creating a room needs the VideoRoom ``admin_key``, RTP uses a fixed
port range, and no room exists until Kinship creates one.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

JANUS_LIB = Path("/usr/lib/x86_64-linux-gnu/janus")

# Everything Debian's janus 1.1.2 ships; whatever else is found in the install's folders is disabled too.
KNOWN_PLUGINS = (
    "libjanus_audiobridge.so",
    "libjanus_duktape.so",
    "libjanus_echotest.so",
    "libjanus_lua.so",
    "libjanus_nosip.so",
    "libjanus_recordplay.so",
    "libjanus_sip.so",
    "libjanus_streaming.so",
    "libjanus_textroom.so",
    "libjanus_videocall.so",
    "libjanus_videoroom.so",
    "libjanus_voicemail.so",
)
KNOWN_TRANSPORTS = (
    "libjanus_http.so",
    "libjanus_mqtt.so",
    "libjanus_nanomsg.so",
    "libjanus_pfunix.so",
    "libjanus_rabbitmq.so",
    "libjanus_websockets.so",
)
KNOWN_EVENT_HANDLERS = (
    "libjanus_gelfevh.so",
    "libjanus_mqttevh.so",
    "libjanus_nanomsgevh.so",
    "libjanus_rabbitmqevh.so",
    "libjanus_sampleevh.so",
    "libjanus_wsevh.so",
)
KNOWN_LOGGERS = ("libjanus_jsonlog.so",)
ENABLED_PLUGINS = frozenset({"libjanus_videoroom.so"})
ENABLED_TRANSPORTS = frozenset({"libjanus_http.so"})

# Janus refuses to write recordings under these (its own default list, kept).
PROTECTED_FOLDERS = (
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/initrd",
    "/lib",
    "/lib32",
    "/lib64",
    "/proc",
    "/sbin",
    "/sys",
    "/usr",
    "/var",
)


@dataclass(frozen=True)
class JanusConfig:
    """What one node's configuration folder says. ``repr`` leaves the secrets out."""

    http_ip: str
    http_port: int
    admin_ip: str
    admin_port: int
    admin_secret: str = field(repr=False)
    admin_key: str = field(repr=False)
    rtp_port_range: tuple[int, int] = (20000, 20999)
    http_acl: tuple[str, ...] = ()
    session_timeout: int = 60
    debug_level: int = 4
    lib_dir: Path = JANUS_LIB

    def __post_init__(self) -> None:
        for address in (self.http_ip, self.admin_ip):
            ip = ipaddress.ip_address(address)
            if not (ip.is_loopback or ip.is_private) or ip.is_unspecified:
                raise ValueError(f"Janus must listen on a loopback or private address, not {address}")
        low, high = self.rtp_port_range
        if not 1024 <= low < high <= 65535:
            raise ValueError(f"invalid RTP port range {low}-{high}")
        for name, value in (("admin_secret", self.admin_secret), ("admin_key", self.admin_key)):
            if len(value) < 16 or '"' in value or "\\" in value:
                raise ValueError(f"{name} must be at least 16 characters, without quotes or backslashes")

    @property
    def acl(self) -> tuple[str, ...]:
        """Who may call the APIs: as given, or the loopback range, or the bind address's /24 (Janus matches
        client addresses by string prefix)."""
        if self.http_acl:
            return self.http_acl
        if ipaddress.ip_address(self.http_ip).is_loopback:
            return ("127.",)
        return (self.http_ip.rsplit(".", 1)[0] + ".",)

    @classmethod
    def for_node(
        cls,
        *,
        url: str,
        admin_url: str,
        admin_secret: str,
        admin_key: str,
        rtp_port_range: tuple[int, int] = (20000, 20999),
        http_acl: tuple[str, ...] = (),
    ) -> JanusConfig:
        """The configuration a node reachable at ``url`` (HTTP API) and ``admin_url`` (admin API) needs."""
        api, admin = urlsplit(url), urlsplit(admin_url)
        if api.path.rstrip("/") != "/janus" or admin.path.rstrip("/") != "/admin":
            raise ValueError("Janus node URLs must end in /janus (API) and /admin (admin API)")
        return cls(
            http_ip=api.hostname or "",
            http_port=api.port or 8088,
            admin_ip=admin.hostname or "",
            admin_port=admin.port or 7088,
            admin_secret=admin_secret,
            admin_key=admin_key,
            rtp_port_range=rtp_port_range,
            http_acl=http_acl,
        )


def _disabled(folder: Path, known: tuple[str, ...], enabled: frozenset[str] = frozenset()) -> str:
    found = {path.name for path in folder.glob("*.so")} if folder.is_dir() else set()
    return ",".join(sorted((found | set(known)) - enabled))


def _quoted(values: tuple[str, ...]) -> str:
    return ",\n\t\t".join(f'"{value}"' for value in values)


def render(config: JanusConfig, configs_folder: Path) -> dict[str, str]:
    """The files of the configuration folder, by name."""
    lib = config.lib_dir
    low, high = config.rtp_port_range
    acl = ",".join(config.acl)
    core = f"""# Generated by Kinship (manage.py janus_config). Do not edit: regenerate.
general: {{
\tconfigs_folder = "{configs_folder}"
\tplugins_folder = "{lib / "plugins"}"
\ttransports_folder = "{lib / "transports"}"
\tevents_folder = "{lib / "events"}"
\tloggers_folder = "{lib / "loggers"}"
\tdebug_level = {config.debug_level}
\tserver_name = "kinship-janus"
\tsession_timeout = {config.session_timeout}
\tadmin_secret = "{config.admin_secret}"
\tprotected_folders = [
\t\t{_quoted(PROTECTED_FOLDERS)}
\t]
}}
certificates: {{
}}
media: {{
\trtp_port_range = "{low}-{high}"
}}
nat: {{
\tnice_debug = false
\tice_ignore_list = "vmnet"
\t# Nominate the first pair that works: with libnice's regular nomination a subscriber's connection (Janus
\t# offering, so controlling) waited about a second more before media flowed (bench/media_load.py, issue 5).
\tice_nomination = "aggressive"
}}
plugins: {{
\tdisable = "{_disabled(lib / "plugins", KNOWN_PLUGINS, ENABLED_PLUGINS)}"
}}
transports: {{
\tdisable = "{_disabled(lib / "transports", KNOWN_TRANSPORTS, ENABLED_TRANSPORTS)}"
}}
loggers: {{
\tdisable = "{_disabled(lib / "loggers", KNOWN_LOGGERS)}"
}}
events: {{
\tbroadcast = false
\tdisable = "{_disabled(lib / "events", KNOWN_EVENT_HANDLERS)}"
}}
"""
    http = f"""# Generated by Kinship. The HTTP API and the admin API, each on one address behind an ACL.
general: {{
\tjson = "compact"
\tbase_path = "/janus"
\thttp = true
\tip = "{config.http_ip}"
\tport = {config.http_port}
\thttps = false
\tacl = "{acl}"
}}
admin: {{
\tadmin_base_path = "/admin"
\tadmin_http = true
\tadmin_ip = "{config.admin_ip}"
\tadmin_port = {config.admin_port}
\tadmin_https = false
\tadmin_acl = "{acl}"
}}
cors: {{
}}
"""
    videoroom = f"""# Generated by Kinship. No rooms here: Kinship creates each room, with the admin key.
general: {{
\tadmin_key = "{config.admin_key}"
\tlock_rtp_forward = true
}}
"""
    return {
        "janus.jcfg": core,
        "janus.transport.http.jcfg": http,
        "janus.plugin.videoroom.jcfg": videoroom,
    }


def write(config: JanusConfig, out: Path) -> list[Path]:
    """Writes the folder (created if missing, readable by its owner only); returns the files written."""
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    out.chmod(0o700)
    written = []
    for name, text in render(config, out).items():
        path = out / name
        path.write_text(text)
        path.chmod(0o600)
        written.append(path)
    return written
