"""Planning evaluation on Two-Rooms: episodes with start and goal in opposite rooms, success rates,
timings, and the pictures (trajectories, energy landscape, a GIF)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.progress import Progress

from worldjepa.config import to_dict
from worldjepa.envs import SUCCESS_RADIUS, SUCCESS_RADIUS_STRICT, TwoRooms
from worldjepa.envs.two_rooms import ACTION_DIM, env_steps_per_action
from worldjepa.envs.two_rooms_geometry import free_positions, render_batch
from worldjepa.errors import ConfigError
from worldjepa.io import write_json
from worldjepa.models.world_model import WorldModel
from worldjepa.planning import MPC, make_planner
from worldjepa.planning.energy import latent_energy


@dataclass
class PlanEvalConfig:
    """episodes use env seeds seed, seed+1, ...; `env` overrides the checkpoint's env kwargs;
    `planner_overrides` the planner's config (horizon, samples, ...). One model step is the model's
    `frameskip` env steps; the MPC replans every `replan_every` model steps."""

    episodes: int = 50
    seed: int = 10_000
    planner: str = "cem"
    planner_overrides: dict[str, Any] = field(default_factory=dict)
    replan_every: int = 1
    env: dict[str, Any] = field(default_factory=dict)
    gif_episodes: int = 3
    landscape_episodes: int = 3

    def __post_init__(self):
        if self.episodes < 1 or self.seed < 0 or self.replan_every < 1:
            raise ConfigError(
                f"episodes and replan_every must be >= 1 and seed >= 0, got {self.episodes}, "
                f"{self.replan_every} and {self.seed}."
            )


@dataclass
class Episode:
    positions: np.ndarray  # [T+1, 2]
    goal: np.ndarray  # [2]
    layout: dict[str, float]
    frames: np.ndarray  # uint8 [T+1, H, W, 3]
    final_distance: float
    steps_to_success: int | None
    plan_seconds: list[float]


def env_for(meta: dict[str, Any], overrides: dict[str, Any]) -> TwoRooms:
    """The env the model was trained on (from its checkpoint's metadata) with `overrides` applied."""
    return TwoRooms.from_kwargs(dict(meta.get("env", {})) | dict(overrides))


def run_episode(env: TwoRooms, model: WorldModel, mpc: MPC, seed: int) -> Episode:
    """One MPC episode; it ends within the strict radius (2 px) or at the env's step limit."""
    obs, info = env.reset(seed=seed)
    with torch.no_grad():
        goal_latent = model.encode(torch.from_numpy(info["goal_observation"])[None])[0]
    mpc.reset()
    positions, frames = [info["position"]], [obs]
    steps_to_success, truncated, step = None, False, 0
    k = env_steps_per_action(model.action_dim)
    while not truncated and info["distance"] >= SUCCESS_RADIUS_STRICT:
        action = mpc.act(torch.from_numpy(obs), goal_latent).cpu().numpy().reshape(k, ACTION_DIM)
        for sub in action:
            obs, _, _, truncated, info = env.step(sub)
            step += 1
            positions.append(info["position"])
            frames.append(obs)
            if steps_to_success is None and info["success"]:
                steps_to_success = step
            if truncated or info["distance"] < SUCCESS_RADIUS_STRICT:
                break
    return Episode(
        np.asarray(positions),
        np.asarray(info["goal"]),
        info["layout"],
        np.asarray(frames),
        float(info["distance"]),
        steps_to_success,
        list(mpc.plan_seconds),
    )


def summarize(episodes: list[Episode], config: PlanEvalConfig, planner_config: Any, env: TwoRooms) -> dict:
    final = np.array([e.final_distance for e in episodes])
    steps = [e.steps_to_success for e in episodes if e.steps_to_success is not None]
    plan_s = [s for e in episodes for s in e.plan_seconds]
    env_steps = sum(len(e.positions) - 1 for e in episodes)
    return {
        "planner": config.planner,
        "planner_config": to_dict(planner_config),
        "episodes": len(episodes),
        "seeds": [config.seed, config.seed + len(episodes) - 1],
        "success_rate": float((final < SUCCESS_RADIUS).mean()),
        "success_rate_2px": float((final < SUCCESS_RADIUS_STRICT).mean()),
        "mean_final_distance": float(final.mean()),
        "median_final_distance": float(np.median(final)),
        "mean_steps_to_success": float(np.mean(steps)) if steps else None,
        "ms_per_action": 1000 * sum(plan_s) / max(env_steps, 1),
        "ms_per_plan": 1000 * float(np.mean(plan_s)) if plan_s else None,
        "plans": len(plan_s),
        "env_steps": env_steps,
        "replan_every": config.replan_every,
        "env": env.kwargs,
        "per_episode": [
            {"final_distance": e.final_distance, "steps_to_success": e.steps_to_success, "layout": e.layout}
            for e in episodes
        ],
    }


@torch.no_grad()
def energy_landscape(model: WorldModel, env: TwoRooms, episode: Episode, batch: int = 512):
    """Latent distance to the goal with the agent rendered at every free position: (positions [K, 2],
    energies [K], background uint8 [H, W, 3])."""
    layout = env.config.layout(episode.layout["wall_x"], episode.layout["door_y"])
    radius = env.config.agent_radius
    positions = free_positions(layout, radius, step=1.0)
    goal = model.encode(torch.from_numpy(render_batch(layout, episode.goal[None], radius)))[0]
    energies = []
    for start in range(0, len(positions), batch):
        frames = torch.from_numpy(render_batch(layout, positions[start : start + batch], radius))
        z = model.encode(frames)
        energies.append(latent_energy(z[:, None], goal, "l1", "final"))
    return positions, torch.cat(energies).cpu().numpy(), map_background(env, episode)


def evaluate_planning(
    model: WorldModel,
    meta: dict[str, Any],
    config: PlanEvalConfig,
    out_dir: str | Path,
    progress: bool = True,
) -> dict[str, Any]:
    """Run `config.episodes` MPC episodes, write `out_dir/results.json` and pictures; return the results."""
    from worldjepa.viz import plot_energy_landscape, plot_trajectories, write_gif

    out_dir = Path(out_dir)
    model.eval()
    env = env_for(meta, config.env)
    planner = make_planner(config.planner, **config.planner_overrides)
    mpc = MPC(model, planner, env.config.max_step, 2, config.replan_every, seed=config.seed)
    episodes = []
    started = time.perf_counter()
    with Progress(disable=not progress) as bar:
        task = bar.add_task(f"plan ({config.planner})", total=config.episodes)
        for i in range(config.episodes):
            episodes.append(run_episode(env, model, mpc, config.seed + i))
            done = sum(e.final_distance < SUCCESS_RADIUS for e in episodes)
            bar.update(task, advance=1, description=f"plan ({config.planner}) {done}/{i + 1} reached")
    results = summarize(episodes, config, planner.config, env)
    results["eval_seconds"] = time.perf_counter() - started
    shown = episodes[:12]
    backgrounds = [map_background(env, e) for e in shown]
    pictures = {
        "trajectories": plot_trajectories(
            backgrounds,
            [e.positions for e in shown],
            np.array([e.positions[0] for e in shown]),
            np.array([e.goal for e in shown]),
            [e.final_distance < SUCCESS_RADIUS for e in shown],
            out_dir / "trajectories.png",
            title=f"Two-Rooms, {config.planner}",
        )
    }
    landscapes = [energy_landscape(model, env, e) for e in episodes[: config.landscape_episodes]]
    if landscapes:
        chosen = episodes[: len(landscapes)]
        pictures["energy_landscape"] = plot_energy_landscape(
            [bg for _, _, bg in landscapes],
            [p for p, _, _ in landscapes],
            [en for _, en, _ in landscapes],
            [tuple(e.goal) for e in chosen],
            out_dir / "energy_landscape.png",
            start=[tuple(e.positions[0]) for e in chosen],
            trajectory=[e.positions for e in chosen],
        )
    gif = episodes[: config.gif_episodes]
    if gif:
        pictures["episodes_gif"] = write_gif(
            [e.frames for e in gif],
            out_dir / "episodes.gif",
            goals=[np.repeat(e.goal[None], len(e.frames), 0) for e in gif],
        )
    results["pictures"] = {k: str(v) for k, v in pictures.items()}
    write_json(out_dir / "results.json", results)
    return results


def map_background(env: TwoRooms, episode: Episode) -> np.ndarray:
    """The episode's map without the agent: uint8 [H, W, 3]."""
    layout = env.config.layout(episode.layout["wall_x"], episode.layout["door_y"])
    return render_batch(layout, np.array([[-100.0, -100.0]]), env.config.agent_radius)[0]
