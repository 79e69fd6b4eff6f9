"""Linear probes, tunnel length and the two-stage rule of the P4 chapters."""
import numpy as np
import torch

from grokcore.claims.p4 import probes


def sigmoid_step(steps, at, height, width=0.15):
    return height / (1 + np.exp(-(np.log10(steps) - np.log10(at)) / width))


def ramp(steps, at, height, width):
    """A surge on a linear step axis: `height` gained between `at` and `at + width`."""
    return height * np.clip((np.asarray(steps, float) - at) / width, 0, 1)


STEPS = np.unique(np.round(np.logspace(0, 5, 200)))
LINEAR = np.arange(0, 10_001, 200.0)  # the book's record at quick: every 200 of 10,000 steps


def test_staircase_curve_is_two_stage():
    acc = 0.1 + ramp(LINEAR, 2_000, 0.35, 600) + ramp(LINEAR, 6_000, 0.45, 600)
    assert probes.n_surges(LINEAR, acc, t_train=1_800) == 2
    assert len(probes.surges(LINEAR, acc, start_step=1_800)) == 2
    assert probes.stage_class(probes.n_surges(LINEAR, acc, t_train=1_800)) == "two or more surges"


def test_second_surge_near_the_end_of_the_budget_is_seen():
    """Memorised at 60% of the budget: the first surge right after it, a plateau, and a second one
    ending at the last record. A look-ahead of a doubling of the step count cannot see it."""
    acc = 0.2 + ramp(LINEAR, 6_000, 0.3, 800) + ramp(LINEAR, 8_800, 0.3, 1_200)
    got = probes.surges(LINEAR, acc, start_step=6_000)
    assert len(got) == 2 and got[-1][1] == 10_000
    assert probes.n_surges(LINEAR, acc, t_train=6_000) == 2
    # the sensitivity variant (a plateau of 10% of the budget) still splits a 2,000-step plateau
    assert probes.n_surges(LINEAR, acc, t_train=6_000, share=probes.PLATEAU_ALT) == 2
    # a plateau shorter than the variant's 1,000 steps merges the two surges there, not in the main rule
    short = 0.2 + ramp(LINEAR, 6_000, 0.3, 800) + ramp(LINEAR, 7_600, 0.3, 1_000)
    assert probes.n_surges(LINEAR, short, t_train=6_000) == 2
    assert probes.n_surges(LINEAR, short, t_train=6_000, share=probes.PLATEAU_ALT) == 1


def test_plateau_length_is_in_steps_of_the_budget():
    acc = 0.1 + ramp(LINEAR, 2_000, 0.35, 600) + ramp(LINEAR, 2_800, 0.45, 600)  # a 200-step plateau
    assert probes.n_surges(LINEAR, acc, t_train=1_800) == 1            # shorter than 5% of 10,000
    assert probes.n_surges(LINEAR, acc, t_train=1_800, plateau=200) == 2
    assert probes.n_surges(LINEAR, acc, t_train=1_800, budget=4_000) == 2  # 5% of a 4,000-step budget


def test_single_grokking_jump_is_one_stage():
    acc = 0.1 + ramp(LINEAR, 4_000, 0.85, 2_000)
    assert probes.n_surges(LINEAR, acc, t_train=1_000) == 1
    assert probes.stage_class(1.0) == "one surge"


def test_rise_during_memorisation_is_not_a_stage():
    acc = 0.1 + ramp(LINEAR, 400, 0.4, 600) + ramp(LINEAR, 5_000, 0.45, 600)
    assert probes.n_surges(LINEAR, acc, t_train=1_200) == 1
    assert probes.n_surges(LINEAR, acc, t_train=200) == 2


def test_noise_and_small_jumps_are_not_surges():
    rng = np.random.default_rng(0)
    acc = 0.5 + rng.normal(0, 0.01, len(LINEAR)) + ramp(LINEAR, 3_000, 0.05, 1_000)
    assert probes.n_surges(LINEAR, acc, t_train=1) == 0


def test_never_memorised_gives_nan():
    assert np.isnan(probes.n_surges(STEPS, np.zeros(len(STEPS)), t_train=np.nan))
    assert probes.stage_class(np.nan) == "no memorisation" and probes.stage_class(0.0) == "no late rise"


def test_onset_of_rise_and_fall():
    rise = sigmoid_step(STEPS, 1e3, 1.0, width=0.05)
    assert 700 <= probes.onset(STEPS, rise) <= 1400
    fall = 40 - sigmoid_step(STEPS, 5e3, 30, width=0.05)
    assert 3500 <= probes.onset(STEPS, fall, rising=False) <= 7000
    assert np.isnan(probes.onset(STEPS, np.ones(len(STEPS)), min_change=0.1))


def test_tunnel_threshold_matches_paper_for_mnist_and_scales_for_mnist1d():
    assert probes.rank_threshold(400, 784) == 300
    assert probes.rank_threshold(400, 40) == 30
    np.testing.assert_array_equal(probes.rank_threshold(400, 784, depth=3), [300, 300, 300])


def test_tunnel_threshold_is_per_layer_when_the_input_is_narrower_than_the_width():
    """Digits (64 pixels) at width 128: the first layer's rank is capped by its input, the later
    layers' by the width (a hidden rank of 80-120 is possible and not a tunnel at 48)."""
    t = probes.rank_threshold(128, 64, depth=4)
    np.testing.assert_array_equal(t, [48, 96, 96, 96])
    ranks = np.array([[57, 122, 90, 10], [40, 120, 110, 10]])   # last = output layer
    np.testing.assert_array_equal(probes.tunnel_length(ranks, t), [1, 1])
    np.testing.assert_array_equal(probes.tunnel_length(ranks, 48), [0, 1])


def test_tunnel_length_counts_hidden_layers_below_threshold():
    ranks = np.array([[390, 390, 120, 20, 10], [390, 390, 390, 390, 10]])  # last = output layer
    np.testing.assert_array_equal(probes.tunnel_length(ranks, 300), [2, 0])


def _features_fn(W):
    # Two "layers": the informative input itself and pure noise (E, n, d) per member.
    def features(x):
        noise = torch.randn(W.shape[0], len(x), 5, generator=torch.Generator().manual_seed(len(x)), dtype=x.dtype)
        return [torch.einsum("nf,efd->end", x, W), noise]
    return features


def test_probe_reads_linear_labels_and_not_noise():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(600, 6, generator=g, dtype=torch.float64)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).long()  # linearly separable classes
    W = torch.stack([torch.eye(6, dtype=torch.float64), 3 * torch.eye(6, dtype=torch.float64)])  # E=2
    acc = probes.probe_accuracy(_features_fn(W), x[:400], y[:400], x[400:], y[400:], 2, chunk=128)
    assert acc.shape == (2, 2)
    assert (acc[:, 0] > 0.95).all()  # layer 0 carries the labels linearly, at any feature scale
    assert (acc[:, 1] < 0.65).all()  # noise layer near chance (0.5)


def test_probe_batched_over_members_equals_separate_fits():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(300, 4, generator=g, dtype=torch.float64)
    y = (x.sum(1) > 0).long()
    W = torch.randn(3, 4, 8, generator=g, dtype=torch.float64)
    both = probes.probe_accuracy(_features_fn(W), x[:200], y[:200], x[200:], y[200:], 2)
    for e in range(3):
        one = probes.probe_accuracy(_features_fn(W[e:e + 1]), x[:200], y[:200], x[200:], y[200:], 2)
        np.testing.assert_allclose(one[0, 0], both[e, 0])


def test_stage_table_has_a_row_per_member_and_onsets_after_memorisation():
    from grokcore import RunConfig
    from grokcore.core.train import train
    cfg = RunConfig(task="mnist1d", model="deepmlp", depth=3, width=64, lr=1e-2, wd=(0.0, 0.1),
                    loss="mse", n_train=50, steps=200, eval_every=10, seeds=(0,),
                    early_stop=False, feature_rank=True, probe_size=64)
    from grokcore.claims.p4 import stage_table
    t = stage_table(train(cfg, device="cpu", progress=False), depth=3)
    assert len(t) == 2 and {"n_surges", "t_test_rise", "t_rank_fall", "t_norm_fall", "stage"} <= set(t.columns)
    assert np.isfinite(t["t_train"]).any()  # 50 examples are memorised in 200 full-batch steps
    for col in ("t_test_rise", "t_rank_fall", "t_norm_fall"):
        ok = np.isfinite(t[col])
        assert (t.loc[ok, col] >= t.loc[ok, "t_train"]).all()
