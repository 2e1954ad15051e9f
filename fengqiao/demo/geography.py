"""The demo's ground: an irregular station outline, cut into communities, then into grids.

Shapes are drawn in kilometres around the demo station's centre and cut in degrees. Every
overlay snaps to a 1e-7 degree grid (about 1 cm), so that two neighbours compute the same
shared edge: the cells are valid, do not overlap and together cover their parent.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Polygon
from shapely.geometry.polygon import orient

from fengqiao.demo.plan import LEIFENG, StationPlan

ORIGIN_LNG, ORIGIN_LAT = LEIFENG.lng, LEIFENG.lat
KM_PER_DEG_LAT = 110.95
KM_PER_DEG_LNG = 111.32 * math.cos(math.radians(ORIGIN_LAT))
GRID_SIZE = 1e-7
# Two grids are neighbours when they share at least this much edge (degrees, about 20 m).
SHARED_EDGE_MIN = 2e-4

Point = tuple[float, float]


@dataclass(frozen=True)
class Ground:
    """A station's outline, its communities and, for each community, its grids (degrees)."""

    station: Polygon
    communities: tuple[Polygon, ...]
    grids: tuple[tuple[Polygon, ...], ...]


def _to_degrees(geom: Any) -> Any:
    def f(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(
            [ORIGIN_LNG + xy[:, 0] / KM_PER_DEG_LNG, ORIGIN_LAT + xy[:, 1] / KM_PER_DEG_LAT]
        )

    return shapely.transform(geom, f)


def _to_km(geom: Any) -> Any:
    def f(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(
            [(xy[:, 0] - ORIGIN_LNG) * KM_PER_DEG_LNG, (xy[:, 1] - ORIGIN_LAT) * KM_PER_DEG_LAT]
        )

    return shapely.transform(geom, f)


def centre_km(plan: StationPlan) -> Point:
    """Return the station's centre in km east and north of the demo station's centre."""
    return ((plan.lng - ORIGIN_LNG) * KM_PER_DEG_LNG, (plan.lat - ORIGIN_LAT) * KM_PER_DEG_LAT)


def _polygons(geom: Any) -> list[Polygon]:
    """Return the polygons of an overlay result, dropping empty, line or point leftovers."""
    return [
        g
        for g in shapely.get_parts(geom)
        if g.geom_type == "Polygon" and not g.is_empty and g.area > 0
    ]


def outline(plan: StationPlan, rng: random.Random, vertices: int = 64) -> Polygon:
    """Return an irregular, star-shaped outline around the station's centre (degrees)."""
    cx, cy = centre_km(plan)
    waves = [(k, amp, rng.uniform(0, 2 * math.pi)) for k, amp in ((2, 0.07), (3, 0.05), (5, 0.03))]
    ring = []
    for i in range(vertices):
        theta = 2 * math.pi * i / vertices
        r = plan.radius_km * (1 + sum(a * math.sin(k * theta + p) for k, a, p in waves))
        r *= 1 + rng.uniform(-0.015, 0.015)  # a ragged edge, as real boundaries follow roads
        ring.append((cx + r * math.cos(theta), cy + r * math.sin(theta)))
    return shapely.set_precision(_to_degrees(Polygon(ring)), GRID_SIZE)


def cut(parent: Polygon, seeds_km: Sequence[Point]) -> list[Polygon]:
    """Cut `parent` into the Voronoi cells of the seeds, in seed order, with no gap or overlap."""
    envelope = _to_km(parent).buffer(2.0)
    cells = shapely.voronoi_polygons(MultiPoint(list(seeds_km)), extend_to=envelope, ordered=True)
    parts = [shapely.intersection(_to_degrees(c), parent, grid_size=GRID_SIZE) for c in cells.geoms]
    return _one_piece_each(parts)


def _one_piece_each(cells: Sequence[Any]) -> list[Polygon]:
    """Keep each cell's largest piece; hand any stray piece to the neighbour it shares most with."""
    main: list[Polygon] = []
    strays: list[Polygon] = []
    for cell in cells:
        pieces = sorted(_polygons(cell), key=lambda p: p.area, reverse=True)
        if not pieces:
            raise ValueError("A Voronoi seed lies outside its parent: the cell is empty.")
        main.append(pieces[0])
        strays.extend(pieces[1:])
    for stray in strays:
        best = max(range(len(main)), key=lambda i: shared_edge(main[i], stray))
        merged = _polygons(shapely.union(main[best], stray, grid_size=GRID_SIZE))
        if len(merged) != 1:
            raise ValueError("A stray piece of a cell touches no neighbour along an edge.")
        main[best] = merged[0]
    return main


def shared_edge(a: Polygon, b: Polygon) -> float:
    """Return about how long an edge two polygons share (degrees); 0 if they only touch."""
    eps = 2 * GRID_SIZE
    return float(a.buffer(eps).intersection(b.buffer(eps)).area / (2 * eps))


def _random_points(parent_km: Polygon, n: int, rng: random.Random) -> list[Point]:
    minx, miny, maxx, maxy = parent_km.bounds
    points: list[Point] = []
    while len(points) < n:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if parent_km.contains(shapely.Point(x, y)):
            points.append((x, y))
    return points


def spread_seeds(parent: Polygon, n: int, rng: random.Random, rounds: int = 3) -> list[Point]:
    """Return n seeds (km) inside `parent`, evened out by a few Lloyd rounds, west to east."""
    parent_km = _to_km(parent)
    points = _random_points(parent_km, n, rng)
    envelope = parent_km.buffer(2.0)
    for _round in range(rounds):
        cells = shapely.voronoi_polygons(MultiPoint(points), extend_to=envelope, ordered=True)
        moved = []
        for p, cell in zip(points, cells.geoms, strict=True):
            c = cell.intersection(parent_km).centroid
            moved.append((c.x, c.y) if parent_km.contains(c) else p)
        points = moved
    # Number grids the way people read a map: north first, then west to east.
    return sorted(points, key=lambda p: (-round(p[1] / 0.8), p[0]))


def _station_cells(
    plan: StationPlan, rng: random.Random, neighbour: Polygon | None = None
) -> tuple[Polygon, list[list[Polygon]]]:
    """Return the station's outline and the grids of each community, before noding."""
    station = outline(plan, rng)
    if neighbour is not None:
        pieces = _polygons(shapely.difference(station, neighbour, grid_size=GRID_SIZE))
        station = max(pieces, key=lambda p: p.area)
    communities = cut(station, [c.seed_km for c in plan.communities])
    return station, [
        cut(area, spread_seeds(area, c.grids, rng))
        for c, area in zip(plan.communities, communities, strict=True)
    ]


def _node(cells: list[Polygon]) -> list[Polygon]:
    """Insert every vertex that lies on a neighbour's edge into that edge as well.

    A grid edge ending on a community boundary leaves a T-junction that the cell across the
    boundary lacks; snapped to the 1e-7 grid, the junction sits up to a centimetre off the
    line, and the two cells overlap by a sliver. Snapping every cell to all vertices closes it.
    """
    vertices = shapely.multipoints(shapely.get_coordinates(cells))
    noded = [shapely.snap(c, vertices, tolerance=3 * GRID_SIZE) for c in cells]
    if not all(c.is_valid for c in noded):
        raise ValueError("Noding the demo grids made an invalid polygon.")
    return noded


def build_ground(plans: Sequence[StationPlan], seed: int) -> dict[str, Ground]:
    """Return each station's ground by code; later stations lie outside the earlier ones."""
    raw: dict[str, list[list[Polygon]]] = {}
    taken: Polygon | None = None
    for plan in plans:
        area, raw[plan.code] = _station_cells(plan, random.Random(f"{seed}-{plan.code}"), taken)
        taken = area if taken is None else shapely.union(taken, area, grid_size=GRID_SIZE)
    flat = [c for cells in raw.values() for group in cells for c in group]
    noded = iter(_node(flat))
    out: dict[str, Ground] = {}
    for code, cells in raw.items():
        grids = tuple(tuple(next(noded) for _c in group) for group in cells)
        communities = tuple(_single(shapely.coverage_union_all(list(g))) for g in grids)
        station = _single(shapely.coverage_union_all([c for g in grids for c in g]))
        out[code] = Ground(station, communities, grids)
    return out


def _single(geom: Any) -> Polygon:
    parts = _polygons(geom)
    if len(parts) != 1:
        raise ValueError("A union of neighbouring grids fell apart into several pieces.")
    return parts[0]


def split_contiguous(cells: Sequence[Polygon], parts: int) -> list[list[int]]:
    """Split cells into `parts` groups of neighbouring cells, as even in number as possible."""
    if parts == 1:
        return [list(range(len(cells)))]
    if parts != 2:
        raise ValueError("Only one or two police grids per community are planned.")
    centroids = [c.centroid for c in cells]
    half = (len(cells) + 1) // 2
    for step in range(12):  # try cutting lines every 15°, keep the first that leaves two beats
        angle = math.pi * step / 12
        key = [c.x * math.cos(angle) + c.y * math.sin(angle) for c in centroids]
        order = sorted(range(len(cells)), key=lambda i: key[i])
        groups = [sorted(order[:half]), sorted(order[half:])]
        if all(connected([cells[i] for i in g]) for g in groups):
            return groups
    raise ValueError("No straight cut splits the community into two contiguous beats.")


def connected(cells: Sequence[Polygon]) -> bool:
    """Return whether the cells form one piece, neighbours sharing an edge."""
    if not cells:
        return False
    seen = {0}
    todo = [0]
    while todo:
        i = todo.pop()
        for j in range(len(cells)):
            if j not in seen and shared_edge(cells[i], cells[j]) > SHARED_EDGE_MIN:
                seen.add(j)
                todo.append(j)
    return len(seen) == len(cells)


def sample_point(poly: Polygon, rng: random.Random, margin: float = 1.5e-4) -> tuple[float, float]:
    """Return (lng, lat) drawn uniformly inside the polygon, at least `margin` from its edge."""
    inner = poly.buffer(-margin)
    if inner.is_empty:
        inner = poly
    shapely.prepare(inner)
    minx, miny, maxx, maxy = inner.bounds
    while True:
        x, y = round(rng.uniform(minx, maxx), 6), round(rng.uniform(miny, maxy), 6)
        if shapely.contains_xy(inner, x, y):
            return x, y


def geojson(poly: Polygon) -> dict[str, Any]:
    """Return the polygon as a GeoJSON dict, outer ring counter-clockwise (RFC 7946)."""
    poly = orient(poly, 1.0)
    rings = [poly.exterior, *poly.interiors]
    return {
        "type": "Polygon",
        "coordinates": [[[round(x, 7), round(y, 7)] for x, y in ring.coords] for ring in rings],
    }
