import pytest
import torch

from worldjepa.errors import ConfigError, ShapeError
from worldjepa.models import create_model
from worldjepa.objectives.losses import normalize_targets

pytestmark = pytest.mark.usefixtures("one_thread")


def image_encoder(**overrides):
    torch.manual_seed(0)
    return create_model("vit_test", num_frames=1, **overrides).eval()


def video_encoder(**overrides):
    torch.manual_seed(0)
    return create_model("vit_test", **overrides).eval()  # 4 frames, tubelet 2, 32 px, patch 8


def predictor(**overrides):
    torch.manual_seed(0)
    return create_model("predictor_test", **overrides).eval()  # grid (2, 4, 4)


@torch.no_grad()
def randomize(module, std=0.5):
    """Large random weights, so that positions and mask tokens visibly change the outputs."""
    g = torch.Generator().manual_seed(4)
    for p in module.parameters():
        p.copy_(torch.randn(p.shape, generator=g) * std)
    return module


def images(b=2):
    return torch.randn(b, 3, 32, 32, generator=torch.Generator().manual_seed(1))


def clips(b=2, t=4):
    return torch.randn(b, 3, t, 32, 32, generator=torch.Generator().manual_seed(2))


# -- encoder -------------------------------------------------------------------------------------


@torch.no_grad()
def test_encoder_output_shapes():
    assert image_encoder()(images()).shape == (2, 16, 32)
    assert video_encoder()(clips()).shape == (2, 2 * 16, 32)
    assert video_encoder()(clips(t=8)).shape == (2, 4 * 16, 32)  # longer clips than configured
    assert image_encoder()(torch.randn(1, 3, 48, 32)).shape == (1, 6 * 4, 32)  # non-square input


@pytest.mark.parametrize("pos_embed", ["rope", "sincos"])
@torch.no_grad()
def test_keep_all_ids_equals_full_pass(pos_embed):
    enc = video_encoder(pos_embed=pos_embed)
    x = clips()
    keep = torch.arange(32).expand(2, -1)
    assert torch.allclose(enc(x, keep=keep), enc(x), atol=1e-6)


@pytest.mark.parametrize("pos_embed", ["rope", "sincos"])
@torch.no_grad()
def test_keep_rows_follow_their_ids(pos_embed):
    """Output row j is the token keep[:, j]: permuting the ids permutes the rows, nothing else."""
    enc = video_encoder(pos_embed=pos_embed, depth=2)
    x = clips()
    keep = torch.tensor([[0, 3, 5, 17, 30], [1, 2, 8, 9, 31]])
    perm = torch.tensor([3, 0, 4, 2, 1])
    base = enc(x, keep=keep)
    assert torch.allclose(enc(x, keep=keep[:, perm]), base[:, perm], atol=1e-5)
    # Context-only attention: the kept tokens do not see the dropped ones, unlike a full pass.
    full = enc(x)
    assert not torch.allclose(base, torch.stack([full[i, keep[i]] for i in range(2)]), atol=1e-3)


@pytest.mark.parametrize("pos_embed", ["rope", "sincos"])
@torch.no_grad()
def test_keep_with_no_blocks_is_a_gather(pos_embed):
    """A 0-depth encoder has no attention, so keeping ids equals picking those rows of a full pass."""
    enc = video_encoder(pos_embed=pos_embed, depth=0)
    x = clips()
    keep = torch.tensor([[31, 0, 7], [4, 16, 2]])
    full = enc(x)
    assert torch.allclose(enc(x, keep=keep), torch.stack([full[i, keep[i]] for i in range(2)]), atol=1e-6)


@torch.no_grad()
def test_video_encoder_repeats_an_image_over_one_tubelet():
    enc = video_encoder()
    x = images()
    out = enc(x)
    assert out.shape == (2, 16, 32)
    assert torch.allclose(out, enc(x.unsqueeze(2).repeat(1, 1, 2, 1, 1)), atol=1e-6)


def test_encoder_shape_errors():
    enc = video_encoder()
    with pytest.raises(ShapeError, match="3 channels") as err:
        enc(torch.randn(1, 1, 4, 32, 32))
    assert "grayscale" in str(err.value)
    with pytest.raises(ShapeError, match="channels"):
        enc(torch.randn(1, 4, 3, 32, 32))  # channels last by mistake
    with pytest.raises(ShapeError, match=r"\[B, C, H, W\]"):
        enc(torch.randn(3, 32, 32))
    with pytest.raises(ShapeError, match="tubelet"):
        enc(torch.randn(1, 3, 3, 32, 32))
    with pytest.raises(ShapeError, match="patch"):
        enc(torch.randn(1, 3, 4, 4, 4))
    with pytest.raises(ShapeError, match="image encoder"):
        image_encoder()(torch.randn(1, 3, 2, 32, 32))
    with pytest.raises(ShapeError, match="outside"):
        enc(clips(), keep=torch.tensor([[0, 32], [1, 2]]))
    with pytest.raises(ShapeError, match="keep"):
        enc(clips(), keep=torch.tensor([0, 1]))


def test_encoder_config_errors():
    with pytest.raises(ConfigError, match="divisible"):
        create_model("vit_test", num_heads=3)
    with pytest.raises(ConfigError, match="tubelet"):
        create_model("vit_test", num_frames=3)
    with pytest.raises(ConfigError, match="pos_embed"):
        create_model("vit_test", pos_embed="learned")


def test_encoder_trains_with_activation_checkpointing():
    enc = video_encoder(activation_checkpointing=True).train()
    plain = video_encoder().train()
    x = clips()
    out, ref = enc(x), plain(x)
    assert torch.allclose(out, ref, atol=1e-6)
    out.square().mean().backward()
    ref.square().mean().backward()
    assert torch.allclose(enc.blocks[0].attn.qkv.weight.grad, plain.blocks[0].attn.qkv.weight.grad, atol=1e-6)


# -- predictor -----------------------------------------------------------------------------------


def predictor_inputs(b=2):
    g = torch.Generator().manual_seed(3)
    context = torch.randn(b, 5, 32, generator=g)
    context_ids = torch.tensor([[0, 3, 5, 17, 30], [1, 2, 8, 9, 31]])[:b]
    target_ids = torch.tensor([[4, 6, 20], [10, 11, 12]])[:b]
    return context, context_ids, target_ids


@torch.no_grad()
def test_predictor_output_shape():
    pred = predictor()
    context, context_ids, target_ids = predictor_inputs()
    assert pred(context, context_ids, target_ids).shape == (2, 3, 32)


@torch.no_grad()
def test_predictor_ignores_context_order():
    pred = randomize(predictor(depth=2))
    context, context_ids, target_ids = predictor_inputs()
    base = pred(context, context_ids, target_ids)
    perm = torch.tensor([4, 2, 0, 1, 3])
    permuted = pred(context[:, perm], context_ids[:, perm], target_ids)
    assert torch.allclose(permuted, base, atol=1e-5)
    # Target rows follow their ids.
    tperm = torch.tensor([2, 0, 1])
    assert torch.allclose(pred(context, context_ids, target_ids[:, tperm]), base[:, tperm], atol=1e-5)


@torch.no_grad()
def test_predictor_mask_index_picks_a_mask_token():
    pred = randomize(predictor())
    context, context_ids, target_ids = predictor_inputs()
    outs = {i: pred(context, context_ids, target_ids, mask_index=i) for i in (0, 1, 11)}
    assert not torch.allclose(outs[0], outs[1], atol=1e-3)
    assert torch.allclose(outs[11], outs[1])  # mask_index is taken modulo the number of tokens
    assert torch.allclose(pred(context, context_ids, target_ids), outs[1])  # V-JEPA 2's default is 1


def test_predictor_mask_tokens_zero_or_random_init():
    assert all(float(t.detach().abs().sum()) == 0 for t in predictor().mask_tokens)
    assert all(float(t.detach().abs().sum()) > 0 for t in predictor(zero_init_mask_tokens=False).mask_tokens)
    assert len(predictor(num_mask_tokens=3).mask_tokens) == 3
    with pytest.raises(ConfigError):
        predictor(num_mask_tokens=0)


CHANGE_GRID = (3, 4, 4)  # ids: step * 16 + place


def change_inputs():
    """Context and target ids on CHANGE_GRID where some targets have earlier context at their place."""
    context = torch.randn(1, 5, 32, generator=torch.Generator().manual_seed(5))
    context_ids = torch.tensor([[1, 17, 2, 5, 37]])  # places 1, 1, 2, 5, 5 at steps 0, 1, 0, 0, 2
    target_ids = torch.tensor([[33, 34, 19, 18, 21]])  # (step, place): (2,1) (2,2) (1,3) (1,2) (1,5)
    return context, context_ids, target_ids


@torch.no_grad()
def test_predict_change_starts_from_the_latest_earlier_context_token_at_the_same_place():
    pred = predictor(predict_change=True)
    context, context_ids, target_ids = change_inputs()
    normed = normalize_targets(context)
    expected = torch.stack([normed[0, 1], normed[0, 2], torch.zeros(32), normed[0, 2], normed[0, 3]])[None]
    assert torch.allclose(pred(context, context_ids, target_ids, grid=CHANGE_GRID), expected, atol=1e-6)
    # Trained, the predictor adds its own output to that copy.
    trained = randomize(predictor(predict_change=True))
    outright = randomize(predictor())
    change = trained(context, context_ids, target_ids, grid=CHANGE_GRID) - expected
    assert torch.allclose(change, outright(context, context_ids, target_ids, grid=CHANGE_GRID), atol=1e-4)


def test_predict_change_sends_no_gradient_through_the_copy():
    context, context_ids, target_ids = change_inputs()
    weights = torch.randn(1, 5, 32, generator=torch.Generator().manual_seed(6))
    grads = []
    for change in (True, False):
        pred = randomize(predictor(predict_change=change))
        x = context.clone().requires_grad_()
        (pred(x, context_ids, target_ids, grid=CHANGE_GRID) * weights).sum().backward()
        grads.append(x.grad)
    assert torch.allclose(*grads, atol=1e-4)


def test_predictor_shape_errors():
    pred = predictor()
    context, context_ids, target_ids = predictor_inputs()
    with pytest.raises(ShapeError, match="32"):
        pred(context[..., :16], context_ids, target_ids)
    with pytest.raises(ShapeError, match="context_ids"):
        pred(context, context_ids[:, :4], target_ids)
    with pytest.raises(ShapeError, match="target_ids"):
        pred(context, context_ids, target_ids[:1])
    with pytest.raises(ShapeError, match="target_ids"):
        pred(context, context_ids, target_ids[0])
    with pytest.raises(ShapeError, match="grid"):
        predictor(pos_embed="sincos")(context, context_ids, torch.tensor([[4, 6, 40], [1, 2, 3]]))


@torch.no_grad()
def test_sincos_variant_builds_and_runs():
    enc = video_encoder(pos_embed="sincos")
    pred = predictor(pos_embed="sincos")
    tokens = enc(clips())
    assert tokens.shape == (2, 32, 32)
    context, context_ids, target_ids = predictor_inputs()
    out = pred(tokens.gather(1, context_ids.unsqueeze(-1).expand(-1, -1, 32)), context_ids, target_ids)
    assert out.shape == (2, 3, 32) and torch.isfinite(out).all()
    assert image_encoder(pos_embed="sincos")(images()).shape == (2, 16, 32)


@torch.no_grad()
def test_predictor_grid_argument():
    """Positions come from the constructor's grid unless one is given."""
    pred = randomize(predictor())
    context, context_ids, target_ids = predictor_inputs()
    default = pred(context, context_ids, target_ids)
    assert torch.allclose(pred(context, context_ids, target_ids, grid=(2, 4, 4)), default)
    assert not torch.allclose(pred(context, context_ids, target_ids, grid=(4, 2, 4)), default, atol=1e-3)
