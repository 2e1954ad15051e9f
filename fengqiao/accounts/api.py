"""The API's view of the caller."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

router = Router(tags=["me"])


class MembershipOut(Schema):
    role: str
    area_id: int
    area_name: str


class MeOut(Schema):
    id: int
    username: str
    full_name: str
    memberships: list[MembershipOut]


@router.get("", response=MeOut, summary="The caller and their roles")
def me(request: HttpRequest) -> MeOut:
    user = request.user
    return MeOut(
        id=int(user.pk or 0),
        username=user.get_username(),
        full_name=getattr(user, "full_name", ""),
        memberships=[
            MembershipOut(role=m.role, area_id=m.area_id, area_name=m.area.name)
            for m in user.memberships.select_related("area")  # type: ignore[union-attr]
        ],
    )
