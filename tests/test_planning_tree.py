"""Tree search on an analytic world with a wall: the goal lies behind it, and only a detour reaches it."""

import pytest
import torch

from worldjepa.errors import ConfigError
from worldjepa.planning import MPC, TreeConfig, make_planner
from worldjepa.planning.tree import pick_frontier

MAX_NORM = 0.5
DOOR = (2.5, 3.5)  # the wall along x = 0 is open for DOOR[0] < y < DOOR[1]
LOW, HIGH = torch.tensor([-2.0, -1.0]), torch.tensor([2.0, 4.0])  # the box around both rooms
START, GOAL = torch.tensor([-1.0, 0.0]), torch.tensor([1.0, 0.0])


class WallWorld:
    """z = (x, y) of a point in a box; a step that would cross x = 0 outside the door keeps its x (the wall
    stops it)."""

    action_dim = 2

    def encode(self, obs):
        return obs

    def rollout(self, z0, actions):
        z, out = z0, []
        for t in range(actions.shape[1]):
            step = torch.maximum(torch.minimum(z + actions[:, t], HIGH), LOW)
            crosses = (z[:, 0] < 0) != (step[:, 0] < 0)
            y = (z[:, 1] + step[:, 1]) / 2
            blocked = crosses & ((y <= DOOR[0]) | (y >= DOOR[1]))
            z = torch.where(blocked[:, None], torch.stack([z[:, 0], step[:, 1]], 1), step)
            out.append(z)
        return torch.stack(out, 1)


def final_position(actions):
    return WallWorld().rollout(START[None], actions[None])[0, -1]


def test_wall_world_blocks_the_straight_line():
    straight = torch.tensor([MAX_NORM, 0.0]).expand(8, 2)
    assert final_position(straight)[0] == pytest.approx(-0.5)  # stuck in front of the wall


def test_tree_search_finds_the_detour_through_the_door():
    planner = make_planner("tree")
    result = planner.plan(WallWorld(), START, GOAL, MAX_NORM, None, torch.Generator().manual_seed(0))
    assert result.actions.shape == (24, 2)
    assert (result.actions.norm(dim=-1) <= MAX_NORM + 1e-5).all()
    path = WallWorld().rollout(START[None], result.actions[None])[0]
    assert (path[-1] - GOAL).norm() < 0.3
    assert path[:, 1].max() > DOOR[0]  # it went through the door
    # the root alone is the first frontier; then 16 nodes x 16 branches in each of the other 11 rounds
    assert result.info["planner"] == "tree" and result.info["nodes"] == 1 + 16 + 11 * 16 * 16


def test_tree_search_in_mpc_reaches_the_goal():
    mpc = MPC(WallWorld(), make_planner("tree"), MAX_NORM, replan_every=2, seed=1)
    z = START
    for _ in range(24):
        z = WallWorld().rollout(z[None], mpc.act(z, GOAL)[None, None])[0, -1]
    assert (z - GOAL).norm() < 0.3


def test_tree_search_is_deterministic_given_the_generator():
    planner = make_planner("tree", horizon=8, frontier=4, branches=4)
    runs = [
        planner.plan(WallWorld(), START, GOAL, MAX_NORM, None, torch.Generator().manual_seed(3)).actions
        for _ in range(2)
    ]
    assert torch.equal(*runs)


def test_tree_search_without_refinement_returns_a_tree_path():
    planner = make_planner("tree", refine_iterations=0)
    result = planner.plan(WallWorld(), START, GOAL, MAX_NORM, None, torch.Generator().manual_seed(0))
    assert result.info["source"] == "tree"
    assert (final_position(result.actions) - GOAL).norm() < 1.0


def test_pick_frontier_starts_at_the_goal_and_spreads_out():
    z = torch.tensor([[0.0, 0.0], [0.1, 0.0], [5.0, 0.0], [0.0, 3.0], [0.0, 3.0]])
    to_goal = torch.tensor([1.0, 0.5, 2.0, 3.0, 3.0])
    assert pick_frontier(z, to_goal, 3).tolist() == [1, 2, 3]
    assert pick_frontier(z, to_goal, 10).tolist() == [1, 2, 3, 0]  # the copy of node 3 is left out


def test_tree_config_errors():
    with pytest.raises(ConfigError, match="multiple of chunk"):
        TreeConfig(horizon=5, chunk=2)
    with pytest.raises(ConfigError, match="frontier"):
        TreeConfig(frontier=0)
    with pytest.raises(ConfigError, match="refine_std"):
        TreeConfig(refine_std=0.0)
    with pytest.raises(ConfigError, match="topk"):
        TreeConfig(refine_samples=8, refine_topk=16)
    with pytest.raises(ConfigError, match="distance"):
        TreeConfig(distance="cosine")
