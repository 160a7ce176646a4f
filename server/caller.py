"""Who is asking: the bearer token (API) or the signed session cookie (pages), and what they may see."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from starlette.requests import Request

from server.errors import ApiError
from server.models import AuthToken, Device, Township, User, Village
from server.tokens import user_for_token

VILLAGE_CODE = re.compile(r"[0-9]{12}")  # SPEC §3: administrative village, 12 digits
TOWNSHIP_CODE = re.compile(r"[0-9]{9}")
SEEN_EVERY = timedelta(minutes=1)  # last_seen_at is bookkeeping: don't write it on every request


@dataclass
class Caller:
    user: User
    device: Device
    token: AuthToken

    @property
    def role(self) -> str:
        return self.user.role

    def require(self, *roles: str) -> None:
        if self.user.role not in roles:
            raise ApiError(403, "forbidden", "Your role may not do this.")

    async def township_codes(self) -> list[str] | None:
        """The townships this caller may see; None means every township (a deployment-wide admin)."""
        if self.user.role == "admin":
            if self.user.county_id is None:  # type: ignore[attr-defined]
                return None
            county = self.user.county_id  # type: ignore[attr-defined]
            codes = await Township.filter(county_id=county).values_list("code", flat=True)
            return [str(code) for code in codes]
        township = self.user.township_id  # type: ignore[attr-defined]
        return [township] if township else []

    async def may_see_township(self, code: str) -> bool:
        codes = await self.township_codes()
        return codes is None or code in codes

    async def require_township(self, code: str) -> None:
        if not await self.may_see_township(code):
            raise ApiError(403, "forbidden", f"Township {code} is outside your scope.")

    async def require_village(self, code: str) -> Village:
        # A code of the wrong shape is unknown; asked of the database, Tortoise would raise a
        # ValidationError on its length (a 500).
        village = await Village.get_or_none(code=code) if VILLAGE_CODE.fullmatch(code) else None
        if village is None:
            raise ApiError(404, "not_found", f"Unknown village {code}.")
        await self.require_township(village.township_id)  # type: ignore[attr-defined]
        return village


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


async def api_caller(request: Request) -> Caller:
    """The caller of an API request: a bearer token, or the pages' session cookie."""
    token = bearer_token(request) or request.session.get("token")
    if not token:
        raise ApiError(401, "unauthenticated", "Sign in first: no token was sent.")
    user, device, row = await user_for_token(token)
    now = datetime.now(UTC)
    if device.last_seen_at is None or now - device.last_seen_at > SEEN_EVERY:
        device.last_seen_at = now
        await device.save(update_fields=["last_seen_at"])
    return Caller(user=user, device=device, token=row)
