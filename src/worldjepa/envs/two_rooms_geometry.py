"""Two-Rooms geometry in numpy: the layout, free space, wall-blocked motion and rendering.

Coordinates are continuous pixels (x, y), origin top-left, y down; pixel (row i, column j) covers
[j, j+1] x [i, i+1]. The wall is the vertical band [wall_x - t/2, wall_x + t/2] over the full height
except the door, the gap y in [door_y - w/2, door_y + w/2]; the frame border is a wall too. The agent
is a disc of radius r. Every function is vectorised: a `Layout` (one scene) or `LayoutArrays` (one
scene per row, `wall_x`/`door_y` of shape [B]) broadcasts against positions [..., 2].
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from worldjepa.errors import ConfigError

WALL_GREY = 200
AGENT_COLOR = (255, 64, 64)
MAX_SUBSTEP = 0.5  # px per physics sub-step: far thinner than the wall, so motion never tunnels through
DOOR_MARGIN = 2  # px between a random door and the frame edge


@dataclasses.dataclass(frozen=True)
class Layout:
    """One scene: frame `size` px, wall centre `wall_x` and `wall_thickness`, door centre `door_y` and
    `door_width`."""

    size: int
    wall_x: float
    wall_thickness: float
    door_y: float
    door_width: float

    def room_of(self, xy) -> np.ndarray | int:
        """0 left of the wall, 1 right of it, -1 inside the wall band (the door) for centres [..., 2]."""
        return room_of(self, xy)

    def is_free(self, xy, radius: float) -> np.ndarray:
        """bool [...]: a disc of `radius` at centres [..., 2] lies in the frame and touches no wall."""
        return is_free(self, xy, radius)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True, eq=False)
class LayoutArrays:
    """B scenes sharing size, thickness and door width: `wall_x`, `door_y` float [B]."""

    size: int
    wall_x: np.ndarray
    wall_thickness: float
    door_y: np.ndarray
    door_width: float

    @classmethod
    def stack(cls, layouts: list[Layout]) -> LayoutArrays:
        first = layouts[0]
        return cls(
            first.size,
            np.array([lay.wall_x for lay in layouts], dtype=np.float64),
            first.wall_thickness,
            np.array([lay.door_y for lay in layouts], dtype=np.float64),
            first.door_width,
        )

    def __len__(self) -> int:
        return len(self.wall_x)

    def __getitem__(self, i: int) -> Layout:
        return Layout(
            self.size, float(self.wall_x[i]), self.wall_thickness, float(self.door_y[i]), self.door_width
        )


def room_of(layout: Layout | LayoutArrays, xy) -> np.ndarray | int:
    """0 (left room), 1 (right room) or -1 (in the wall band, i.e. the door) for centres [..., 2]."""
    x = np.asarray(xy, dtype=np.float64)[..., 0]
    half = layout.wall_thickness / 2
    rooms = np.where(x < layout.wall_x - half, 0, np.where(x > layout.wall_x + half, 1, -1))
    return int(rooms) if rooms.ndim == 0 else rooms


def is_free(layout: Layout | LayoutArrays, xy, radius: float) -> np.ndarray:
    """bool [...]: a disc of `radius` at centres [..., 2] lies inside the frame and overlaps no wall
    (touching is allowed)."""
    xy = np.asarray(xy, dtype=np.float64)
    x, y = xy[..., 0], xy[..., 1]
    size, half = layout.size, layout.wall_thickness / 2
    inside = (x >= radius) & (x <= size - radius) & (y >= radius) & (y <= size - radius)
    dx = np.maximum(np.maximum(layout.wall_x - half - x, x - layout.wall_x - half), 0.0)
    # The wall is two rectangles, above and below the door; each extends past the frame, where the
    # agent never is, so the distance to it only needs its door-side edge.
    dy_above = np.maximum(y - (layout.door_y - layout.door_width / 2), 0.0)
    dy_below = np.maximum(layout.door_y + layout.door_width / 2 - y, 0.0)
    r2 = radius * radius
    return inside & (dx * dx + dy_above * dy_above >= r2) & (dx * dx + dy_below * dy_below >= r2)


def clip_norm(actions, max_step: float) -> np.ndarray:
    """float64 [..., 2]: `actions` scaled down (direction kept) to a norm of at most `max_step`."""
    actions = np.asarray(actions, dtype=np.float64)
    norm = np.sqrt(actions[..., 0] ** 2 + actions[..., 1] ** 2)
    scale = np.minimum(1.0, max_step / np.maximum(norm, 1e-12))
    return actions * scale[..., None]


def move(layout: Layout | LayoutArrays, positions, actions, radius: float, max_step: float) -> np.ndarray:
    """New centres float64 [B, 2] after displacements `actions` [B, 2] (clipped to norm `max_step`).

    Motion goes in sub-steps of at most MAX_SUBSTEP px; a sub-step that would hit a wall is retried
    along x alone and along y alone (the larger component first), so the agent slides along walls.
    Starting from free `positions` [B, 2], the result is always free.
    """
    p = np.array(positions, dtype=np.float64)
    n = max(1, math.ceil(max_step / MAX_SUBSTEP))
    d = clip_norm(actions, max_step) / n
    along_x, along_y = d * [1.0, 0.0], d * [0.0, 1.0]
    first = np.where((np.abs(d[:, 0]) >= np.abs(d[:, 1]))[:, None], along_x, along_y)
    second = d - first
    for _ in range(n):
        candidates = [p + d, p + first, p + second]
        p_next = p
        for c in reversed(candidates):  # the earliest free candidate wins
            p_next = np.where(is_free(layout, c, radius)[:, None], c, p_next)
        p = p_next
    return p


def _band_coverage(lo, hi, size: int) -> np.ndarray:
    """float32 [B, size]: the length of [lo, hi] (each [B]) inside each unit pixel interval."""
    edges = np.arange(size, dtype=np.float64)
    lo, hi = np.asarray(lo)[:, None], np.asarray(hi)[:, None]
    return np.clip(np.minimum(hi, edges + 1) - np.maximum(lo, edges), 0.0, 1.0).astype(np.float32)


def render_batch(layout: Layout | LayoutArrays, positions, radius: float = 3.0) -> np.ndarray:
    """uint8 [B, size, size, 3]: black background, grey walls, an anti-aliased disc at each centre [B, 2].

    Walls are drawn with exact area coverage and the agent with coverage clip(r + 0.5 - dist, 0, 1),
    so sub-pixel positions change the pixels."""
    positions = np.asarray(positions, dtype=np.float64)
    b, size = len(positions), layout.size
    wall_x = np.broadcast_to(np.asarray(layout.wall_x, dtype=np.float64), (b,))
    door_y = np.broadcast_to(np.asarray(layout.door_y, dtype=np.float64), (b,))
    half_t, half_w = layout.wall_thickness / 2, layout.door_width / 2
    columns = _band_coverage(wall_x - half_t, wall_x + half_t, size)
    rows = 1.0 - _band_coverage(door_y - half_w, door_y + half_w, size)
    wall = np.rint(WALL_GREY * rows[:, :, None] * columns[:, None, :]).astype(np.uint8)
    frames = np.repeat(wall[..., None], 3, axis=-1)

    # The agent only touches a small patch around its centre: blend there, not over the frame.
    patch = min(size, math.ceil(2 * radius) + 3)
    corner = np.clip(np.floor(positions - radius - 1).astype(np.int64), 0, size - patch)  # [B, 2] (x, y)
    offsets = np.arange(patch)
    cols = corner[:, 0, None] + offsets  # [B, P]
    rows_i = corner[:, 1, None] + offsets
    dist = np.hypot(
        cols[:, None, :] + 0.5 - positions[:, 0, None, None],
        rows_i[:, :, None] + 0.5 - positions[:, 1, None, None],
    )
    cover = np.clip(radius + 0.5 - dist, 0.0, 1.0)[..., None]  # [B, P, P, 1]
    index = (np.arange(b)[:, None, None], rows_i[:, :, None], cols[:, None, :])
    blended = frames[index] * (1.0 - cover) + np.asarray(AGENT_COLOR, dtype=np.float64) * cover
    frames[index] = np.rint(blended).astype(np.uint8)
    return frames


def free_positions(layout: Layout, radius: float, step: float = 1.0) -> np.ndarray:
    """float [K, 2]: every free agent centre on the grid of spacing `step` (pixel centres when step=1)."""
    ticks = np.arange(step / 2, layout.size, step)
    grid = np.stack(np.meshgrid(ticks, ticks, indexing="xy"), axis=-1).reshape(-1, 2)
    return grid[is_free(layout, grid, radius)]


def wall_x_range(size: int) -> tuple[int, int]:
    """Inclusive integer range of random wall centres: the central band [5/16, 11/16] of the frame
    (25 positions x 49 doors = 1225 layouts at 64 px)."""
    return math.ceil(size * 5 / 16), math.floor(size * 11 / 16)


def door_y_range(size: int, door_width: float) -> tuple[int, int]:
    """Inclusive integer range of random door centres keeping the door DOOR_MARGIN px inside the frame."""
    return math.ceil(DOOR_MARGIN + door_width / 2), math.floor(size - DOOR_MARGIN - door_width / 2)


def sample_layout(
    rng: np.random.Generator,
    size: int,
    wall_thickness: float,
    door_width: float,
    wall_x: float | None = None,
    door_y: float | None = None,
) -> Layout:
    """A layout with the given `wall_x`/`door_y`, each drawn as a uniform integer when None."""
    if wall_x is None:
        lo, hi = wall_x_range(size)
        wall_x = int(rng.integers(lo, hi + 1))
    if door_y is None:
        lo, hi = door_y_range(size, door_width)
        door_y = int(rng.integers(lo, hi + 1))
    return Layout(size, float(wall_x), float(wall_thickness), float(door_y), float(door_width))


def check_layout(layout: Layout, radius: float) -> None:
    """Raise ConfigError unless the wall and door lie in the frame and the agent fits in both rooms."""
    half = layout.wall_thickness / 2
    lo, hi = 2 * radius + half, layout.size - 2 * radius - half
    if not lo <= layout.wall_x <= hi:
        raise ConfigError(
            f"wall_x={layout.wall_x:g} leaves a room narrower than the agent (diameter {2 * radius:g}) "
            f"in a {layout.size} px frame; pick wall_x in [{lo:g}, {hi:g}]"
        )
    half_w = layout.door_width / 2
    if layout.door_y - half_w < 0 or layout.door_y + half_w > layout.size:
        raise ConfigError(
            f"door_y={layout.door_y:g} puts the door (width {layout.door_width:g}) outside the frame; "
            f"pick door_y in [{half_w:g}, {layout.size - half_w:g}]"
        )


def sample_in_room(
    layout: Layout, rng: np.random.Generator, room: int, radius: float, margin: float = 0.0
) -> np.ndarray:
    """float [2]: a centre uniform over the free positions of `room` (0 left, 1 right, -1 anywhere)
    whose disc stays `margin` px clear of every wall."""
    half = layout.wall_thickness / 2
    x_lo, x_hi = {
        0: (0.0, layout.wall_x - half),
        1: (layout.wall_x + half, layout.size),
        -1: (0, layout.size),
    }[room]
    for _ in range(1000):  # rejection sampling; the free part of a room is most of its rectangle
        xy = rng.uniform((x_lo, 0.0), (x_hi, layout.size), size=(64, 2))
        ok = is_free(layout, xy, radius + margin)
        if room != -1:
            ok &= room_of(layout, xy) == room
        if ok.any():
            return xy[np.argmax(ok)]
    raise ConfigError(
        f"room {room} of {layout} has no free position for an agent of radius {radius + margin:g}"
    )


def sample_opposite_rooms(
    layout: Layout, rng: np.random.Generator, radius: float, margin: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """(start, goal), each float [2], uniform over the free positions of two different rooms
    (which room holds the start is a coin flip)."""
    room = int(rng.integers(2))
    return sample_in_room(layout, rng, room, radius, margin), sample_in_room(
        layout, rng, 1 - room, radius, margin
    )
