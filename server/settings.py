"""Settings from the environment (SPEC §8), and the keys made and kept on first start."""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from sync.policy import Policy

MAX_BODY_BYTES = 1024 * 1024  # SPEC §6: 1 MiB per push
MAX_IMPORT_BYTES = 64 * 1024 * 1024  # a province's villages, users and assignments


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    tz: str
    secret_key: str
    vapid_private_key: str  # PEM
    vapid_public_key: str  # base64url, uncompressed point (the browser's applicationServerKey)
    vapid_subject: str
    policy: Policy = field(default_factory=Policy)
    scheduler: bool = True

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))


def _policy_from_env() -> Policy:
    """Every policy number may be overridden as CUNYI_<NAME> (e.g. CUNYI_DUTY_MIN_HOURS=6)."""
    defaults = Policy()
    values: dict[str, object] = {}
    for name, value in vars(defaults).items():
        raw = os.environ.get(f"CUNYI_{name.upper()}")
        if raw is not None:
            values[name] = type(value)(raw)
    return Policy(**values)  # type: ignore[arg-type]


def _sqlite_url(path: Path) -> str:
    # synchronous=FULL: a push is acknowledged only after its commit reached the disk (WAL).
    return f"sqlite://{path}?journal_mode=WAL&synchronous=FULL&foreign_keys=ON&busy_timeout=10000"


def _make_vapid_keys() -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return pem, vapid_public_key_of(pem)


def vapid_public_key_of(pem: str) -> str:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    raw = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _kept_keys(data_dir: Path) -> dict[str, str]:
    """Read the keys file, making it (mode 0600) on first start. The keys are written to a private
    temporary file and linked into place, so of several processes starting at once exactly one
    wins and none ever reads a half-written file. Several hosts must share the keys through the
    environment instead (README: Deployment on PostgreSQL)."""
    path = data_dir / "keys.json"
    if not path.exists():
        pem, _ = _make_vapid_keys()
        keys = {"secret_key": secrets.token_urlsafe(48), "vapid_private_key": pem}
        temporary = data_dir / f".keys.{os.getpid()}.{secrets.token_hex(4)}.json"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(keys, f)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        else:
            return keys
        finally:
            temporary.unlink()
    return dict(json.loads(path.read_text()))


def load_settings() -> Settings:
    data_dir = Path(os.environ.get("CUNYI_DATA_DIR", "data")).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    tz = os.environ.get("CUNYI_TZ", "Asia/Shanghai")
    ZoneInfo(tz)  # an unknown zone fails at start, not at the first visit
    database_url = os.environ.get("CUNYI_DATABASE_URL") or _sqlite_url(data_dir / "cunyi.sqlite3")
    secret_key = os.environ.get("CUNYI_SECRET_KEY")
    # A PEM written on one line with `\n` escapes (systemd EnvironmentFile, docker --env-file)
    # is read as the PEM itself; a PEM never holds a backslash.
    vapid_private = os.environ.get("CUNYI_VAPID_PRIVATE_KEY", "").replace("\\n", "\n") or None
    if not secret_key or not vapid_private:
        kept = _kept_keys(data_dir)
        secret_key = secret_key or kept["secret_key"]
        vapid_private = vapid_private or kept["vapid_private_key"]
    return Settings(
        database_url=database_url,
        data_dir=data_dir,
        tz=tz,
        secret_key=secret_key,
        vapid_private_key=vapid_private,
        vapid_public_key=vapid_public_key_of(vapid_private),
        vapid_subject=os.environ.get("CUNYI_VAPID_SUBJECT", "mailto:admin@cunyi.invalid"),
        policy=_policy_from_env(),
        scheduler=os.environ.get("CUNYI_SCHEDULER", "1") != "0",
    )
