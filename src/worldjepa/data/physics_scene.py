"""Scenes of simple physics: bodies under constant velocity or gravity, bouncing off the walls and
off each other (elastic, equal masses), passing behind a full-height occluder.

Body 0 is the *target*, the one a violation changes. It never touches another body (scenes where it
would are re-drawn), so hiding or moving it never changes how the others move.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from worldjepa.data.physics_render import COLOURS, SHAPES, render_frame
from worldjepa.errors import DataError

# Lengths are for a 64 px frame and scale with the frame size.
GRAVITY = 0.3  # px / frame^2, in scenes that have gravity (half of them)
RADIUS = (6.0, 8.0)
TARGET_SPEED = (4.5, 6.5)  # horizontal px / frame, so the target crosses the occluder
SPEED = (0.5, 3.0)  # px / frame of the other bodies
TRIES = 1000
HIDE_FRAMES = (6, 9)  # the target is first fully hidden at one of these frames


@dataclass
class Body:
    x: float
    y: float
    vx: float
    vy: float
    r: float
    shape: str
    colour: int
    visible: bool = True


@dataclass
class Scene:
    """bodies[0] is the target; `occluder` is (left, right) in pixels; `hidden` the first frame the
    target is fully behind it."""

    bodies: list[Body]
    occluder: tuple[float, float]
    gravity: float
    size: int
    hidden: int


Edit = tuple[int, dict]  # (frame, new attribute values of the target from that frame on)


def step(bodies: list[Body], gravity: float, size: int) -> None:
    """Advance one frame in place: gravity, motion, wall bounces, collisions among non-targets."""
    for b in bodies:
        b.vy += gravity
        b.x += b.vx
        b.y += b.vy
        for pos, vel in (("x", "vx"), ("y", "vy")):
            p, lo, hi = getattr(b, pos), b.r, size - b.r
            if p < lo:
                setattr(b, pos, 2 * lo - p)
                setattr(b, vel, abs(getattr(b, vel)))
            elif p > hi:
                setattr(b, pos, 2 * hi - p)
                setattr(b, vel, -abs(getattr(b, vel)))
    others = bodies[1:]
    for i, a in enumerate(others):
        for b in others[i + 1 :]:
            dx, dy = b.x - a.x, b.y - a.y
            dist = math.hypot(dx, dy)
            if dist == 0 or dist >= a.r + b.r:
                continue
            nx, ny = dx / dist, dy / dist
            closing = (a.vx - b.vx) * nx + (a.vy - b.vy) * ny
            if closing > 0:
                a.vx, a.vy = a.vx - closing * nx, a.vy - closing * ny
                b.vx, b.vy = b.vx + closing * nx, b.vy + closing * ny
            push = (a.r + b.r - dist) / 2
            a.x, a.y, b.x, b.y = a.x - push * nx, a.y - push * ny, b.x + push * nx, b.y + push * ny


def simulate(scene: Scene, frames: int, edits: list[Edit] = ()) -> list[list[Body]]:
    """The bodies at each of `frames` frames; each edit sets target attributes from its frame on."""
    bodies = [dataclasses.replace(b) for b in scene.bodies]
    states = []
    for t in range(frames):
        for frame, changes in edits:
            if frame == t:
                for key, value in changes.items():
                    setattr(bodies[0], key, value)
        states.append([dataclasses.replace(b) for b in bodies])
        step(bodies, scene.gravity, scene.size)
    return states


def render(scene: Scene, states: list[list[Body]]) -> np.ndarray:
    """uint8 `[T, size, size, 3]` frames of simulated `states`."""
    return np.stack(
        [
            render_frame([dataclasses.asdict(b) for b in bodies], [scene.occluder], scene.size)
            for bodies in states
        ]
    )


def fully_hidden(b: Body, occluder: tuple[float, float]) -> bool:
    return occluder[0] <= b.x - b.r - 1 and b.x + b.r + 1 <= occluder[1]


def clear_of(b: Body, occluder: tuple[float, float], margin: float = 1.0) -> bool:
    """True when no part of `b` is behind the occluder, nor within `margin` px of it."""
    return b.x + b.r + margin <= occluder[0] or occluder[1] <= b.x - b.r - margin


def random_body(rng: np.random.Generator, size: int) -> Body:
    scale = size / 64
    r = float(rng.uniform(*RADIUS)) * scale
    angle = rng.uniform(0, 2 * math.pi)
    v = rng.uniform(*SPEED) * scale
    return Body(
        x=float(rng.uniform(r, size - r)),
        y=float(rng.uniform(r, size - r)),
        vx=v * math.cos(angle),
        vy=v * math.sin(angle),
        r=r,
        shape=SHAPES[int(rng.integers(len(SHAPES)))],
        colour=int(rng.integers(len(COLOURS))),
    )


def place_target(rng: np.random.Generator, size: int, gravity: float, frames: int) -> Scene | None:
    """A target moving across the frame and an occluder on its path, hiding it fully at a frame in
    HIDE_FRAMES; None when this draw does not allow one (the caller draws again)."""
    scale = size / 64
    target = random_body(rng, size)
    target.vx = float(rng.uniform(*TARGET_SPEED) * scale * rng.choice((-1.0, 1.0)))
    target.vy = float(rng.uniform(-2.0, 2.0) * scale)
    hidden = int(rng.integers(HIDE_FRAMES[0], HIDE_FRAMES[1] + 1))
    path = simulate(Scene([target], (0.0, 0.0), gravity, size, hidden), frames)
    xs = np.array([bodies[0].x for bodies in path])
    around = np.diff(xs[max(hidden - 3, 0) : min(hidden + 4, frames)])
    if not (np.all(around > 0) or np.all(around < 0)):
        return None  # the target bounces off a side wall near the occluder
    half = target.r + 1 + abs(target.vx) * float(rng.uniform(0.2, 0.45))
    occluder = (xs[hidden] - half, xs[hidden] + half)
    if occluder[0] < 2 or occluder[1] > size - 2:
        return None
    if any(fully_hidden(bodies[0], occluder) for bodies in path[:hidden]):
        return None
    return Scene([target], occluder, gravity, size, hidden)


def sample_scene(rng: np.random.Generator, size: int, frames: int, max_distractors: int = 2) -> Scene:
    """A scene with a target, an occluder on its path and 0..max_distractors other bodies, none of
    which ever touches the target."""
    gravity = GRAVITY * size / 64 if rng.random() < 0.5 else 0.0
    for _ in range(TRIES):
        scene = place_target(rng, size, gravity, frames)
        if scene is not None:
            break
    else:
        raise DataError(
            f"cannot place a target and an occluder in {frames} frames of {size} px; use the defaults"
        )
    wanted = int(rng.integers(max_distractors + 1))
    for _ in range(20 * wanted):
        if len(scene.bodies) > wanted:
            break
        extra = random_body(rng, size)
        trial = dataclasses.replace(scene, bodies=[*scene.bodies, extra])
        states = simulate(trial, frames)
        if all(not touching(s[0], o) for s in states for o in s[1:]) and not any(
            touching(b, extra, 4) for b in scene.bodies
        ):
            scene = trial
    return scene


def touching(a: Body, b: Body, margin: float = 2.0) -> bool:
    return math.hypot(a.x - b.x, a.y - b.y) < a.r + b.r + margin
