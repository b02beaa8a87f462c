"""Two-Rooms: a disc agent in a square frame split by a wall with one door (the Wall task of PLDM and
DINO-WM). Observations are RGB frames; actions are (dx, dy) displacements of norm <= max_step; the goal
is a position, never drawn, that the planner sees as a frame (`goal_observation`)."""

from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium as gym
import numpy as np

from worldjepa.config import from_dict, to_dict
from worldjepa.envs.two_rooms_geometry import (
    Layout,
    LayoutArrays,
    check_layout,
    door_y_range,
    is_free,
    move,
    render_batch,
    room_of,
    sample_in_room,
    sample_layout,
    sample_opposite_rooms,
    wall_x_range,
)
from worldjepa.errors import ConfigError, ShapeError, WorldJepaError, suggest

SUCCESS_RADIUS = 4.5
SUCCESS_RADIUS_STRICT = 2.0
START_MARGIN = 1.0  # px between a random start/goal disc and the walls
RESET_OPTIONS = ("start", "goal", "wall_x", "door_y")
ACTION_DIM = 2  # an env action is (dx, dy)


def env_steps_per_action(model_action_dim: int) -> int:
    """The env steps one world-model action of `model_action_dim` numbers stands for (a model step
    groups whole (dx, dy) env actions); ConfigError when it does not divide."""
    if model_action_dim < ACTION_DIM or model_action_dim % ACTION_DIM:
        raise ConfigError(
            f"The world model's action dim {model_action_dim} is not a whole number of the env's "
            f"{ACTION_DIM}-d actions: it cannot drive this env."
        )
    return model_action_dim // ACTION_DIM


@dataclasses.dataclass(frozen=True)
class TwoRoomsConfig:
    """The keyword arguments of TwoRooms; None for `wall_x`/`door_y` draws them afresh at every reset."""

    size: int = 64
    wall_x: float | None = None
    wall_thickness: float = 4.0
    door_y: float | None = None
    door_width: float = 12.0
    agent_radius: float = 3.0
    max_step: float = 3.0
    max_episode_steps: int = 100
    render_mode: str | None = "rgb_array"

    def __post_init__(self):
        for name in ("wall_thickness", "door_width", "agent_radius", "max_step"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name} must be > 0, got {getattr(self, name)!r}")
        if self.size < 16 or self.max_episode_steps < 1:
            raise ConfigError(
                f"need size >= 16 and max_episode_steps >= 1, got {self.size}, {self.max_episode_steps}"
            )
        if self.door_width <= 2 * self.agent_radius:
            raise ConfigError(
                f"door_width={self.door_width:g} must exceed the agent's diameter {2 * self.agent_radius:g} "
                "or the agent can never change room"
            )
        if self.render_mode not in (None, "rgb_array"):
            raise ConfigError(f"render_mode must be 'rgb_array' or None, got {self.render_mode!r}")
        lo, hi = door_y_range(self.size, self.door_width)
        if self.door_y is None and lo > hi:
            raise ConfigError(
                f"door_width={self.door_width:g} leaves no room for a door in a {self.size} px frame"
            )
        walls = [self.wall_x] if self.wall_x is not None else list(wall_x_range(self.size))
        doors = [self.door_y] if self.door_y is not None else [lo, hi]
        for x in walls:
            for y in doors:
                check_layout(self.layout(x, y), self.agent_radius)

    def layout(self, wall_x: float, door_y: float) -> Layout:
        return Layout(
            self.size, float(wall_x), float(self.wall_thickness), float(door_y), float(self.door_width)
        )


class TwoRooms(gym.Env):
    """Gymnasium env "worldjepa/TwoRooms-v0": obs uint8 [size, size, 3], action float32 [2] (dx, dy).

    reward = -distance to the goal; never terminated (success is in info); truncated after
    `max_episode_steps`. `reset(options=...)` accepts "start", "goal" (x, y), "wall_x", "door_y".
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(
        self,
        size: int = 64,
        wall_x: float | None = None,
        wall_thickness: float = 4,
        door_y: float | None = None,
        door_width: float = 12,
        agent_radius: float = 3.0,
        max_step: float = 3.0,
        max_episode_steps: int = 100,
        render_mode: str | None = "rgb_array",
    ):
        self.config = from_dict(
            TwoRoomsConfig,
            dict(
                size=size,
                wall_x=wall_x,
                wall_thickness=wall_thickness,
                door_y=door_y,
                door_width=door_width,
                agent_radius=agent_radius,
                max_step=max_step,
                max_episode_steps=max_episode_steps,
                render_mode=render_mode,
            ),
        )
        self.render_mode = render_mode
        self.observation_space = gym.spaces.Box(0, 255, (size, size, 3), dtype=np.uint8)
        self.action_space = gym.spaces.Box(-max_step, max_step, (ACTION_DIM,), dtype=np.float32)
        self.layout: Layout | None = None
        self.position: np.ndarray | None = None
        self.goal: np.ndarray | None = None
        self._steps = 0

    @classmethod
    def from_kwargs(cls, kwargs: dict[str, Any] | None) -> TwoRooms:
        """Build from a dict (e.g. `--env-kwargs` JSON); an unknown key raises ConfigError naming it."""
        return cls(**to_dict(from_dict(TwoRoomsConfig, kwargs)))

    @property
    def kwargs(self) -> dict[str, Any]:
        """All keyword arguments, JSON-safe: `TwoRooms(**env.kwargs)` builds the same env."""
        return to_dict(self.config)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        options = dict(options or {})
        for key in options:
            if key not in RESET_OPTIONS:
                raise ConfigError(
                    f"unknown reset option {key!r}.{suggest(key, RESET_OPTIONS)} Use {RESET_OPTIONS}"
                )
        cfg, rng = self.config, self.np_random
        wall_x, door_y = options.get("wall_x", cfg.wall_x), options.get("door_y", cfg.door_y)
        self.layout = sample_layout(rng, cfg.size, cfg.wall_thickness, cfg.door_width, wall_x, door_y)
        check_layout(self.layout, cfg.agent_radius)
        start, goal = (self._point(name, options.get(name)) for name in ("start", "goal"))
        if start is None and goal is None:
            start, goal = sample_opposite_rooms(self.layout, rng, cfg.agent_radius, START_MARGIN)
        elif start is None:
            start = self._in_other_room(goal)
        elif goal is None:
            goal = self._in_other_room(start)
        self.position, self.goal, self._steps = start, goal, 0
        info = self._info()
        info["goal_observation"] = self.goal_observation()
        return self.render(), info

    def step(self, action):
        if self.position is None:
            raise WorldJepaError("call reset() before step()")
        action = np.asarray(action, dtype=np.float64)
        if action.shape != (2,):
            raise ShapeError(f"action must have shape (2,) = (dx, dy), got {action.shape}")
        if not np.isfinite(action).all():
            raise ShapeError(f"action must be finite, got {action.tolist()}; check the planner's output")
        cfg = self.config
        self.position = move(self.layout, self.position[None], action[None], cfg.agent_radius, cfg.max_step)[
            0
        ]
        self._steps += 1
        info = self._info()
        return self.render(), -info["distance"], False, self._steps >= cfg.max_episode_steps, info

    def render(self) -> np.ndarray:
        """uint8 [size, size, 3]: the current frame (walls and agent; the goal is not drawn)."""
        return self._frame(self.position)

    def goal_observation(self) -> np.ndarray:
        """uint8 [size, size, 3]: the frame with the agent drawn at the goal."""
        return self._frame(self.goal)

    def _frame(self, xy: np.ndarray | None) -> np.ndarray:
        if xy is None:
            raise WorldJepaError("call reset() before render()")
        return render_batch(self.layout, xy[None], self.config.agent_radius)[0]

    def _point(self, name: str, value) -> np.ndarray | None:
        if value is None:
            return None
        xy = np.asarray(value, dtype=np.float64)
        if xy.shape != (2,) or not np.isfinite(xy).all():
            raise ConfigError(f"reset option {name!r} must be two finite numbers (x, y), got {value!r}")
        if not is_free(self.layout, xy, self.config.agent_radius):
            raise ConfigError(
                f"reset option {name}={xy.tolist()} is not a free position for {self.layout} "
                f"(the agent disc of radius {self.config.agent_radius:g} would overlap a wall or the border)"
            )
        return xy

    def _in_other_room(self, xy: np.ndarray) -> np.ndarray:
        room = room_of(self.layout, xy)
        other = int(self.np_random.integers(2)) if room == -1 else 1 - room
        return sample_in_room(self.layout, self.np_random, other, self.config.agent_radius, START_MARGIN)

    def _info(self) -> dict[str, Any]:
        distance = float(np.hypot(*(self.position - self.goal)))
        return {
            "position": self.position.copy(),
            "goal": self.goal.copy(),
            "distance": distance,
            "success": distance < SUCCESS_RADIUS,
            "success_2px": distance < SUCCESS_RADIUS_STRICT,
            "layout": self.layout.to_dict(),
        }


class TwoRoomsBatch:
    """`num_envs` Two-Rooms agents stepped together in numpy, for data collection: no goals, no time limit.

    Takes the keyword arguments of TwoRooms. Each row has its own layout (random ones drawn from
    `seed` unless given to `reset`)."""

    def __init__(self, num_envs: int, seed: int = 0, **kwargs):
        if num_envs < 1:
            raise ConfigError(f"num_envs must be >= 1, got {num_envs}")
        self.num_envs = num_envs
        self.config = from_dict(TwoRoomsConfig, kwargs)
        self.rng = np.random.default_rng(seed)
        self.layouts: LayoutArrays | None = None
        self.positions: np.ndarray | None = None

    def reset(self, layouts: LayoutArrays | None = None, positions=None) -> tuple[np.ndarray, np.ndarray]:
        """Frames uint8 [B, size, size, 3] and positions float [B, 2]. Without `positions` each start is
        uniform over the free positions of its layout."""
        cfg = self.config
        if layouts is None:
            layouts = LayoutArrays.stack(
                [
                    sample_layout(
                        self.rng, cfg.size, cfg.wall_thickness, cfg.door_width, cfg.wall_x, cfg.door_y
                    )
                    for _ in range(self.num_envs)
                ]
            )
        if len(layouts) != self.num_envs:
            raise ShapeError(f"got {len(layouts)} layouts for {self.num_envs} envs")
        if positions is None:
            positions = np.stack(
                [sample_in_room(layouts[i], self.rng, -1, cfg.agent_radius) for i in range(len(layouts))]
            )
        positions = np.array(positions, dtype=np.float64)
        if positions.shape != (self.num_envs, 2):
            raise ShapeError(f"positions must have shape ({self.num_envs}, 2), got {positions.shape}")
        if not is_free(layouts, positions, cfg.agent_radius).all():
            raise ConfigError("reset positions must be free (inside the frame, clear of the wall)")
        self.layouts, self.positions = layouts, positions
        return self.render(), self.positions.copy()

    def step(self, actions) -> tuple[np.ndarray, np.ndarray]:
        """Move every agent by `actions` [B, 2]; frames uint8 [B, size, size, 3], positions float [B, 2]."""
        if self.positions is None:
            raise WorldJepaError("call reset() before step()")
        actions = np.asarray(actions, dtype=np.float64)
        if actions.shape != (self.num_envs, 2) or not np.isfinite(actions).all():
            raise ShapeError(f"actions must be finite with shape ({self.num_envs}, 2), got {actions.shape}")
        self.positions = move(
            self.layouts, self.positions, actions, self.config.agent_radius, self.config.max_step
        )
        return self.render(), self.positions.copy()

    def render(self) -> np.ndarray:
        return render_batch(self.layouts, self.positions, self.config.agent_radius)
