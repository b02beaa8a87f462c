"""Built-in environments (gymnasium API). Importing this package registers "worldjepa/TwoRooms-v0"."""

import gymnasium

from worldjepa.envs.learned_energy_dynamics import LearnedEnergyDynamics
from worldjepa.envs.two_rooms import (
    SUCCESS_RADIUS,
    SUCCESS_RADIUS_STRICT,
    TwoRooms,
    TwoRoomsBatch,
    TwoRoomsConfig,
)
from worldjepa.envs.two_rooms_dynamics import TwoRoomsTrueDynamics
from worldjepa.envs.two_rooms_geometry import (
    Layout,
    LayoutArrays,
    free_positions,
    is_free,
    move,
    render_batch,
    room_of,
    sample_in_room,
    sample_layout,
    sample_opposite_rooms,
)

TWO_ROOMS_ID = "worldjepa/TwoRooms-v0"

if TWO_ROOMS_ID not in gymnasium.registry:
    gymnasium.register(id=TWO_ROOMS_ID, entry_point="worldjepa.envs.two_rooms:TwoRooms")

__all__ = [
    "SUCCESS_RADIUS",
    "SUCCESS_RADIUS_STRICT",
    "TWO_ROOMS_ID",
    "LearnedEnergyDynamics",
    "Layout",
    "LayoutArrays",
    "TwoRooms",
    "TwoRoomsBatch",
    "TwoRoomsConfig",
    "TwoRoomsTrueDynamics",
    "free_positions",
    "is_free",
    "move",
    "render_batch",
    "room_of",
    "sample_in_room",
    "sample_layout",
    "sample_opposite_rooms",
]
