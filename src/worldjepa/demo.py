"""The pretraining demo: V-JEPA on moving digits on CPU, then frozen probes against two baselines.

It runs the SIGReg recipe for a shorter budget than the benchmark (1500 of its 12,000 steps), so that
it stays under 10 minutes on 2 cores (`make demo` runs the planning demo instead);
`benchmarks/pretrain_probe.py` runs the full budget.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from worldjepa.errors import ConfigError
from worldjepa.eval.probe_report import probe_checkpoint
from worldjepa.io import write_json
from worldjepa.train import load_pretrain_config, pretrain
from worldjepa.train.metrics import read_metrics
from worldjepa.viz import plot_probe_report, plot_training_curves

DEFAULT_RECIPE = Path("configs/vjepa_moving_digits_sigreg.yaml")
DEMO_STEPS = 1500


def run_demo(
    seed: int = 0,
    out_dir: str | Path = "runs/demo",
    config: str | Path = DEFAULT_RECIPE,
    progress: bool = True,
    steps: int | None = DEMO_STEPS,
) -> dict[str, Any]:
    """Pretrain (or finish a previous demo run: it resumes), probe with baselines, plot.

    `steps` overrides the recipe's optim.steps (None keeps them). Returns the probe report plus
    the paths written: `report.json`, `probes.png`, `training.png`.
    """
    config, out_dir = Path(config), Path(out_dir)
    if not config.is_file():
        raise ConfigError(f"Demo recipe '{config}' not found; run the demo from the repository root.")
    recipe = load_pretrain_config(
        config,
        [f"run.out_dir={out_dir / 'pretrain'}", f"run.seed={seed}", f"run.progress={str(progress).lower()}"]
        + ([f"optim.steps={steps}"] if steps is not None else []),
    )
    result = pretrain(recipe, resume=True)
    report = probe_checkpoint(
        result.model_dir,
        data=recipe.data,
        kinds=("linear", "attentive"),
        baselines=True,
        seed=seed,
        progress=progress,
    )
    report["training"] = {
        "seconds": result.seconds,
        "samples_per_s": result.samples_per_s,
        "steps": result.steps,
        "final_loss": result.final_loss,
    }
    report["files"] = {
        "report": str(out_dir / "report.json"),
        "probes_plot": str(
            plot_probe_report(
                report, out_dir / "probes.png", "V-JEPA on moving digits: frozen-feature probes"
            )
        ),
        "training_plot": str(plot_training_curves(read_metrics(result.run_dir), out_dir / "training.png")),
        "model": str(result.model_dir),
    }
    write_json(out_dir / "report.json", report)
    return report
