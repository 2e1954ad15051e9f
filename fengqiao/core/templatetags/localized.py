"""Names from the database in the interface language: `name` is Chinese, `name_en` English.

{% load localized %}, then {{ place.kind|localized_name }} for a record, or for bare names
{% localized_names "areas.PlaceKind" as names %} and {{ k.kind__name|localized_from:names }}.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.apps import apps
from django.utils.translation import get_language

register = template.Library()


def _english() -> bool:
    return (get_language() or "").lower().startswith("en")


@register.filter
def localized_name(obj: Any) -> str:
    """Return `obj.name_en` when the interface is English and it is set, else `obj.name`."""
    if obj is None:
        return ""
    name = str(getattr(obj, "name", obj))
    if _english():
        return str(getattr(obj, "name_en", "") or "") or name
    return name


@register.simple_tag
def localized_names(model_label: str) -> dict[str, str]:
    """Return {Chinese name: English name} of a code list such as "areas.PlaceKind".

    Empty (and no query) unless the interface is English.
    """
    if not _english():
        return {}
    model = apps.get_model(model_label)
    return {
        name: name_en
        for name, name_en in model.objects.values_list("name", "name_en")
        if name and name_en
    }


@register.filter
def localized_from(value: Any, names: dict[str, str] | None) -> Any:
    """Return the English name of a Chinese `value` from `localized_names`, else `value`."""
    if names and isinstance(value, str):
        return names.get(value, value)
    return value
