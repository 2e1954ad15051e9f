"""Jurisdiction pages: the area tree, the map, places."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from fengqiao.areas import selectors
from fengqiao.areas.access import user_can


def _require(request: HttpRequest, perm: str) -> None:
    if not user_can(request.user, perm):
        raise PermissionDenied


@login_required
def area_list(request: HttpRequest) -> HttpResponse:
    _require(request, "area.view")
    return render(request, "areas/area_list.html", {"tree": selectors.area_tree(user=request.user)})


@login_required
def map_page(request: HttpRequest) -> HttpResponse:
    _require(request, "area.view")
    return render(request, "areas/map.html")


@login_required
def map_data(request: HttpRequest) -> JsonResponse:
    _require(request, "area.view")
    return JsonResponse(selectors.map_layers(user=request.user))


@login_required
def place_list(request: HttpRequest) -> HttpResponse:
    _require(request, "place.view")
    page = selectors.place_page(user=request.user, cursor=request.GET.get("cursor"))
    return render(request, "areas/place_list.html", {"page": page})
