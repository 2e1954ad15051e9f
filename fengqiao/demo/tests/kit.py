"""What every demo test module needs before it loads the demo."""

from __future__ import annotations


def ensure_code_lists() -> None:
    """Reload the migrations' code lists that a transactional test on this worker flushed."""
    from fengqiao.areas.kinds import load_place_kinds
    from fengqiao.areas.models import PlaceKind
    from fengqiao.disputes.tests.kit import ensure_codes
    from fengqiao.incidents.codes import load_categories
    from fengqiao.incidents.models import IncidentCategory

    if not PlaceKind.objects.exists():
        load_place_kinds(PlaceKind)
    if not IncidentCategory.objects.exists():
        load_categories(IncidentCategory)
    ensure_codes()
