"""Planning pictures: trajectory and energy-landscape PNGs, episode GIFs, and their shape errors."""

import numpy as np
import pytest
from PIL import Image

from worldjepa.errors import ConfigError, ShapeError
from worldjepa.viz.gif import draw_goal_cross, write_gif
from worldjepa.viz.planning_plots import energy_grid, plot_energy_landscape, plot_trajectories

SIZE = 32


def two_rooms_map(wall_x=16, door_y=10) -> np.ndarray:
    """A dark 32 px frame with a grey wall and a door gap, like the Two-Rooms map without the agent."""
    frame = np.zeros((SIZE, SIZE, 3), np.uint8)
    frame[:, wall_x - 1 : wall_x + 1] = 200
    frame[door_y - 3 : door_y + 3, wall_x - 1 : wall_x + 1] = 0
    return frame


def free_grid(step=1.0, wall_x=16):
    """Positions on a regular grid left and right of the wall, and their distance to a goal at (26, 20)."""
    xs = np.arange(2, SIZE - 2, step)
    grid = np.stack(np.meshgrid(xs, xs), -1).reshape(-1, 2)
    positions = grid[np.abs(grid[:, 0] - wall_x) > 3]
    return positions, np.linalg.norm(positions - [26, 20], axis=1)


def is_png(path) -> bool:
    with Image.open(path) as image:
        return image.format == "PNG" and image.size[0] > 100


def test_trajectories_one_map(tmp_path):
    rng = np.random.default_rng(0)
    paths = [np.cumsum(rng.normal(size=(t, 2)), 0) + 8 for t in (5, 9, 1)]
    starts, goals = np.full((3, 2), 8.0), rng.uniform(2, 30, (3, 2))
    target = tmp_path / "a" / "t.png"
    out = plot_trajectories(two_rooms_map(), paths, starts, goals, [True, False, True], target)
    assert out == target and is_png(out)
    assert [p.name for p in out.parent.iterdir()] == ["t.png"]  # no temp file left behind


def test_trajectories_one_panel_per_episode(tmp_path):
    k = 5
    maps = [two_rooms_map(door_y=6 + 4 * i) for i in range(k)]
    paths = [np.linspace([4, 4], [28, 6 + 4 * i], 10) for i in range(k)]
    starts, goals = np.full((k, 2), 4.0), np.array([[28, 6 + 4 * i] for i in range(k)], float)
    out = plot_trajectories(maps, paths, starts, goals, np.arange(k) % 2 == 0, tmp_path / "t.png")
    assert is_png(out)


@pytest.mark.parametrize(
    "change",
    [
        {"backgrounds": np.zeros((SIZE, SIZE, 3), np.float32)},
        {"backgrounds": np.zeros((SIZE, SIZE), np.uint8)},
        {"backgrounds": [two_rooms_map()]},
        {"paths": [np.zeros((4, 3)), np.zeros((4, 2))]},
        {"starts": np.zeros((3, 2))},
        {"goals": np.zeros(2)},
        {"successes": [True]},
        {"paths": []},
    ],
)
def test_trajectories_bad_input(tmp_path, change):
    args = {
        "backgrounds": two_rooms_map(),
        "paths": [np.zeros((4, 2)), np.ones((3, 2))],
        "starts": np.zeros((2, 2)),
        "goals": np.ones((2, 2)),
        "successes": [True, False],
    } | change
    with pytest.raises(ShapeError):
        plot_trajectories(**args, path=tmp_path / "t.png")
    assert not (tmp_path / "t.png").exists()


@pytest.mark.parametrize("step, offset", [(1.0, 0.0), (0.5, 0.0), (1.0, 0.5)])
def test_energy_grid_fills_integer_half_and_offset_grids(step, offset):
    positions, energies = free_grid(step)
    grid, extent = energy_grid(positions + offset, energies)
    assert np.isfinite(grid).sum() == len(positions)  # one cell per position, none merged
    assert np.nanmin(grid) == energies.min() and np.nanmax(grid) == energies.max()
    left, right, bottom, top = extent
    assert left == pytest.approx(2 + offset - step / 2) and top == pytest.approx(2 + offset - step / 2)
    assert (right - left) / step == grid.shape[1] and (bottom - top) / step == grid.shape[0]
    # The value at a position sits in the cell whose centre is that position.
    x, y = positions[7] + offset
    col, row = round((x - left) / step - 0.5), round((y - top) / step - 0.5)
    assert grid[row, col] == energies[7]


def test_energy_grid_averages_duplicates_and_leaves_holes_nan():
    positions = np.array([[0.0, 0.0], [0.0, 0.0], [2.0, 0.0], [0.0, 1.0]])
    grid, _ = energy_grid(positions, np.array([1.0, 3.0, 5.0, 7.0]))
    np.testing.assert_array_equal(grid, [[2.0, np.nan, 5.0], [7.0, np.nan, np.nan]])


def test_energy_landscape_one_panel(tmp_path):
    positions, energies = free_grid()
    energies[::7] = np.nan  # missing values are masked, not an error
    path = np.linspace([4, 4], [26, 20], 12)
    out = plot_energy_landscape(
        two_rooms_map(), positions, energies, (26, 20), tmp_path / "e.png", start=(4, 4), trajectory=path
    )
    assert is_png(out)


def test_energy_landscape_several_panels(tmp_path):
    n = 3
    positions, energies = free_grid(0.5)
    out = plot_energy_landscape(
        [two_rooms_map(door_y=8 + 4 * i) for i in range(n)],
        [positions] * n,
        [energies * (i + 1) for i in range(n)],
        [(26, 20), (6, 6), (20, 28)],
        tmp_path / "e.png",
        start=[(4, 4), None, (10, 10)],
        titles=["a", "b", "c"],
    )
    assert is_png(out)


@pytest.mark.parametrize(
    "change",
    [
        {"energies": np.zeros(3)},
        {"positions": np.zeros((10, 3))},
        {"background": np.zeros((SIZE, SIZE, 4), np.uint8)},
        {"goal": (1, 2, 3)},
        {"trajectory": np.zeros(5)},
    ],
)
def test_energy_landscape_bad_input(tmp_path, change):
    positions, energies = free_grid()
    args = {"background": two_rooms_map(), "positions": positions, "energies": energies, "goal": (26, 20)}
    with pytest.raises(ShapeError):
        plot_energy_landscape(**(args | change), path=tmp_path / "e.png")


def test_energy_landscape_panel_count_mismatch(tmp_path):
    positions, energies = free_grid()
    with pytest.raises(ShapeError, match="goal has 1 entries for 2"):
        plot_energy_landscape(
            [two_rooms_map()] * 2, [positions] * 2, [energies] * 2, [(26, 20)], tmp_path / "e.png"
        )


def episode(t, seed=0) -> np.ndarray:
    """t distinct random frames [t, 8, 10, 3] (distinct so Pillow keeps every one)."""
    return np.random.default_rng(seed).integers(0, 256, (t, 8, 10, 3), dtype=np.uint8)


def read_gif(path):
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.info["loop"] == 0
        durations = []
        for i in range(gif.n_frames):
            gif.seek(i)
            durations.append(gif.info["duration"])
        return gif.n_frames, gif.size, durations


def test_gif_one_episode(tmp_path):
    out = write_gif(episode(6), tmp_path / "g" / "ep.gif", fps=10, scale=3, pause=0.5)
    frames, size, durations = read_gif(out)
    assert (frames, size) == (6, (30, 24))
    assert durations == [100] * 5 + [600]
    assert [p.name for p in out.parent.iterdir()] == ["ep.gif"]


def test_gif_episodes_in_a_row_with_goal_cross(tmp_path):
    episodes = [episode(4, 1), episode(3, 2)]
    goals = [np.tile([5.0, 3.0], (4, 1)), np.full((3, 2), np.nan)]
    out = write_gif(episodes, tmp_path / "g.gif", fps=20, scale=2, goals=goals, pause=0.2)
    frames, size, durations = read_gif(out)
    assert (frames, size) == (7, (20, 16))
    assert durations == [50, 50, 50, 250, 50, 50, 250]
    with Image.open(out) as gif:
        first = np.asarray(gif.convert("RGB"))
    assert (first[5, 9] == [255, 0, 255]).all()  # goal (5, 3) at scale 2 -> upscaled (row 5.5, col 9.5)


def test_goal_cross_is_centred_and_skips_nan():
    frames = np.zeros((2, 16, 16, 3), np.uint8)
    drawn = draw_goal_cross(frames, np.array([[3.0, 4.0], [np.nan, np.nan]]), scale=2)
    assert not frames.any()  # input untouched
    marked = np.argwhere(drawn[0].any(-1))
    np.testing.assert_allclose(marked.mean(0), [4 * 2 - 0.5, 3 * 2 - 0.5])
    assert not drawn[1].any()


@pytest.mark.parametrize(
    "frames",
    [
        np.zeros((3, 8, 8, 3), np.float32),
        np.zeros((3, 8, 8), np.uint8),
        np.zeros((0, 8, 8, 3), np.uint8),
        [],
        [np.zeros((2, 8, 8, 3), np.uint8), np.zeros((2, 6, 8, 3), np.uint8)],
    ],
)
def test_gif_bad_frames(tmp_path, frames):
    with pytest.raises(ShapeError):
        write_gif(frames, tmp_path / "g.gif")
    assert not (tmp_path / "g.gif").exists()


def test_gif_bad_goals_and_settings(tmp_path):
    with pytest.raises(ShapeError, match=r"goals\[0\] must be \[3, 2\]"):
        write_gif(episode(3), tmp_path / "g.gif", goals=np.zeros((2, 2)))
    with pytest.raises(ShapeError, match="goals has 1 entries for 2"):
        write_gif([episode(3), episode(2)], tmp_path / "g.gif", goals=[np.zeros((3, 2))])
    with pytest.raises(ConfigError):
        write_gif(episode(3), tmp_path / "g.gif", scale=0)
    with pytest.raises(ConfigError):
        write_gif(episode(3), tmp_path / "g.gif", fps=0)
