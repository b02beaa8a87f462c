"""worldjepa.load: released presets, every on-disk format, the download path offline, preprocessing, CLI."""

import numpy as np
import pytest
import torch
from typer.testing import CliRunner
from vjepa2_tiny import tiny_hf_model

import worldjepa
from worldjepa.cli import app
from worldjepa.data.transforms import IMAGENET_STD, ProcessorTransform, VideoTransform
from worldjepa.errors import CheckpointError, ConfigError
from worldjepa.hub.convert import convert
from worldjepa.hub.pretrained import Pretrained
from worldjepa.hub.released import RELEASES
from worldjepa.models import ActionPredictor, Encoder, Predictor, build_model

pytest.importorskip("transformers")

# Encoder and predictor parameter counts of the released models (official code, counted on CPU).
PARAMETERS = {
    "vjepa2-vitl-fpc64-256": (303_885_312, 22_086_016),
    "vjepa2-vith-fpc64-256": (631_648_000, 22_282_880),
    "vjepa2-vitg-fpc64-256": (1_012_173_952, 22_381_312),
    "vjepa2-vitg-fpc64-384": (1_012_173_952, 22_381_312),
    "vjepa2-ac-vitg": (1_012_173_952, 305_220_992),
}


def count(module):
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("name", list(RELEASES))
def test_every_release_builds_on_meta_with_the_official_parameter_count(name):
    release = RELEASES[name]
    with torch.device("meta"):
        encoder = build_model(release.encoder_config())
        predictor = build_model(release.predictor_config())
    assert isinstance(encoder, Encoder)
    assert isinstance(predictor, ActionPredictor if release.action_conditioned else Predictor)
    assert (count(encoder), count(predictor)) == PARAMETERS[name]
    assert encoder.config.img_size == release.crop_size and encoder.config.num_frames == 64
    assert release.official_url.endswith(".pt") and (release.hf_repo or "").startswith(
        "" if release.action_conditioned else "facebook/vjepa2-"
    )


@pytest.fixture(scope="module")
def hf_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hf")
    tiny_hf_model().save_pretrained(folder)
    return folder


def encode(model, seed=0):
    x = torch.randn(1, 3, 4, 32, 32, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        return model.encoder(x)


def test_every_format_loads_to_the_same_model(hf_folder, tmp_path):
    model = worldjepa.load(hf_folder)
    assert model.source == str(hf_folder) and isinstance(model.predictor, Predictor)
    _, folder = convert(hf_folder, tmp_path / "wj")
    _, pt = convert(tmp_path / "wj", tmp_path / "model.pt")
    from_folder = worldjepa.load(folder)
    assert torch.equal(encode(from_folder), encode(model))
    assert from_folder.predictor.config == model.predictor.config
    raw = torch.load(pt, weights_only=True)
    assert sorted(raw) == ["encoder", "predictor", "target_encoder"]


def test_worldjepa_folder_picks_the_encoder_by_name(hf_folder, tmp_path):
    from worldjepa.hub.model_files import save_model_files

    model = worldjepa.load(hf_folder)
    other = Encoder(model.encoder.config).eval()
    save_model_files(
        tmp_path, {"encoder": model.encoder, "target_encoder": other, "predictor": model.predictor}
    )
    assert torch.equal(encode(worldjepa.load(tmp_path)), encode(model))
    assert torch.equal(encode(worldjepa.load(tmp_path, which="target_encoder")), encode(Pretrained(other)))


def test_release_downloads_through_the_hugging_face_cache(hf_folder, tmp_path):
    """The real snapshot_download path, offline, from a cache laid out as huggingface_hub keeps it."""
    repo = tmp_path / "models--facebook--vjepa2-vitl-fpc64-256"
    snapshot = repo / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0" * 40)
    for name in ("config.json", "model.safetensors"):
        (snapshot / name).write_bytes((hf_folder / name).read_bytes())
    model = worldjepa.load("vjepa2-vitl-fpc64-256", cache_dir=tmp_path, local_files_only=True)
    assert model.source == "vjepa2-vitl-fpc64-256"
    assert torch.equal(encode(model), encode(worldjepa.load(hf_folder)))
    by_repo = worldjepa.load("facebook/vjepa2-vitl-fpc64-256", cache_dir=tmp_path, local_files_only=True)
    assert torch.equal(encode(by_repo), encode(model))
    with pytest.raises(CheckpointError, match="not in the local cache"):
        worldjepa.load("facebook/vjepa2-vith-fpc64-256", cache_dir=tmp_path, local_files_only=True)


def test_official_only_release_uses_the_torch_hub_cache(tmp_path):
    with pytest.raises(CheckpointError, match=r"vjepa2-ac-vitg.pt is not in the cache.*dl.fbaipublicfiles"):
        worldjepa.load("vjepa2-ac-vitg", cache_dir=tmp_path, local_files_only=True)
    # A cached file of another size is checked against the release, before any memory is taken.
    (tmp_path / "checkpoints").mkdir()
    encoder = Encoder(worldjepa.create_model("vit_test").config)
    state = {f"module.{k}": v for k, v in encoder.state_dict().items()}
    torch.save({"encoder": state}, tmp_path / "checkpoints" / "vjepa2-ac-vitg.pt")
    shapes = r"(?s)as vjepa2-ac-vitg.*blocks.0.attn.qkv.weight: file \(96, 32\) vs model \(4224, 1408\)"
    with pytest.raises(CheckpointError, match=shapes):
        worldjepa.load("vjepa2-ac-vitg", cache_dir=tmp_path, local_files_only=True)


def test_names_and_paths_that_do_not_exist(tmp_path):
    with pytest.raises(ConfigError, match="Did you mean: vjepa2-vitl-fpc64-256"):
        worldjepa.load("vjepa2-vitl-fpc64-265")
    with pytest.raises(CheckpointError, match="No file or folder 'someone/model'.*not in the local cache"):
        worldjepa.load("someone/model", cache_dir=tmp_path, local_files_only=True)
    with pytest.raises(CheckpointError, match="does not exist"):
        worldjepa.load("./nowhere/vitl.pt")
    with pytest.raises(CheckpointError, match="'runs/typo/model' does not exist"):
        worldjepa.load("runs/typo/model")  # a path: a repo id has one slash
    with pytest.raises(ConfigError, match="which"):
        worldjepa.load("vjepa2-vitl-fpc64-256", which="ema")


def test_hugging_face_folder_has_no_target_encoder(hf_folder):
    with pytest.raises(ConfigError, match="one encoder"):
        worldjepa.load(hf_folder, which="target_encoder")


def test_preprocess_gives_the_encoder_a_clip(hf_folder):
    model = worldjepa.load(hf_folder)
    frames = np.random.default_rng(0).integers(0, 256, (4, 40, 50, 3), dtype=np.uint8)
    clip = model.preprocess(frames)
    assert clip.shape == (1, 3, 4, 32, 32)
    with torch.no_grad():
        assert model.encoder(clip).shape == (1, 2 * 4 * 4, 48)


def test_processor_transform_is_within_one_grey_level_of_video_transform():
    """Same resize size and crop; uint8 resizing moves a pixel by at most one level (1 / 255 / std)."""
    frames = np.random.default_rng(1).integers(0, 256, (2, 48, 70, 3), dtype=np.uint8)
    exact, close = ProcessorTransform(32)(frames), VideoTransform(32)(frames)
    assert exact.shape == close.shape == (3, 2, 32, 32)
    assert (exact - close).abs().max() <= 1 / 255 / min(IMAGENET_STD) + 1e-5
    assert ProcessorTransform(256).short_side == VideoTransform(256).short_side == 292


def test_transform_matches_the_real_vjepa2_video_processor():
    pytest.importorskip("torchvision")
    from transformers import VJEPA2VideoProcessor

    rng = np.random.default_rng(0)
    for h, w, crop in [(240, 320, 256), (300, 200, 256), (257, 391, 256), (64, 80, 32)]:
        frames = rng.integers(0, 256, (3, h, w, 3), dtype=np.uint8)
        theirs = VJEPA2VideoProcessor(crop_size=crop)(frames, return_tensors="pt")["pixel_values_videos"][0]
        ours = ProcessorTransform(crop)(frames).transpose(0, 1)
        assert theirs.shape == ours.shape and (theirs - ours).abs().max() < 1e-6


def test_cli_convert(hf_folder, tmp_path):
    run = CliRunner().invoke(app, ["convert", str(hf_folder), str(tmp_path / "m.pt")], env={"COLUMNS": "200"})
    assert run.exit_code == 0, run.output
    assert "official" in run.output and "Predictor, " in run.output
    again = CliRunner().invoke(app, ["convert", str(hf_folder), str(tmp_path / "h"), "--to", "hf"])
    assert again.exit_code == 0 and (tmp_path / "h" / "model.safetensors").is_file()
    bad = CliRunner().invoke(app, ["convert", str(hf_folder), str(tmp_path / "x"), "--to", "onnx"])
    assert bad.exit_code == 1 and "Unknown format 'onnx'" in bad.output
    listed = CliRunner().invoke(app, ["releases"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0 and "vjepa2-ac-vitg" in listed.output
