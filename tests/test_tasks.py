import numpy as np
import pytest
import torch

from grokcore import ConfigError, RunConfig, validate
from grokcore.core.tasks import TASKS, all_pairs, is_prime, make_data, split_indices


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_task_labels_match_its_definition(name):
    p = 13
    x, y = all_pairs(name, p)
    a, b = x[:, 0], x[:, 1]
    expected = {
        "add": (a + b) % p, "sub": (a - b) % p, "mul": (a * b) % p, "mul_nonzero": (a * b) % p,
        "sq_sum": (a * a + b * b) % p, "cube_ab": (a ** 3 + a * b) % p,
    }
    if name == "div":
        assert (b != 0).all() and len(y) == p * (p - 1)
        assert ((y * b) % p == a).all()
    else:
        assert (y == expected[name]).all()
    assert y.min() >= 0 and y.max() < p


def test_division_labels_are_inverse_of_multiplication():
    p = 97
    x, y = all_pairs("div", p)
    # (a / b) * b == a for every pair, and a / b differs from a * b somewhere (not mislabelled)
    assert ((y * x[:, 1]) % p == x[:, 0]).all()
    assert ((x[:, 0] * x[:, 1]) % p != y).any()


def test_mul_nonzero_has_p_minus_1_squared_pairs():
    x, _ = all_pairs("mul_nonzero", 97)
    assert len(x) == 96 * 96 and (x != 0).all()


def test_split_is_a_partition_of_the_right_size():
    tr, te = split_indices(9409, 0.2, 0)
    assert len(tr) == 1882 and len(te) == 7527
    assert len(np.intersect1d(tr, te)) == 0 and len(np.union1d(tr, te)) == 9409


def test_shared_split_ignores_init_seed_and_per_seed_split_differs():
    shared = make_data(RunConfig(p=11, frac=0.5, seeds=(0, 1)))
    assert shared.x_train.dim() == 2 and not shared.per_member
    per = make_data(RunConfig(p=11, frac=0.5, seeds=(0, 1), split="per_seed"))
    assert per.x_train.shape[0] == 2 and per.per_member
    assert not torch.equal(per.x_train[0], per.x_train[1])
    # member 0 of a per-seed split equals the shared split with split_seed 0
    assert torch.equal(per.x_train[0], shared.x_train)


def test_is_prime():
    assert [n for n in range(20) if is_prime(n)] == [2, 3, 5, 7, 11, 13, 17, 19]


def test_diagonal_selection_balances_operands_and_sums():
    from grokcore.core.tasks import all_pairs, diagonal_indices
    p, frac = 13, 0.4
    x, y = all_pairs("add", p)
    tr, te = diagonal_indices(x, p, frac, seed=3)
    k = round(frac * p)
    assert len(tr) == k * p and len(te) == p * p - k * p
    assert len(np.intersect1d(tr, te)) == 0
    for col in (x[tr, 0], x[tr, 1], y[tr]):  # every a, b and sum exactly k times
        assert (np.bincount(col, minlength=p) == k).all()
    assert len(np.unique((x[tr, 1] - x[tr, 0]) % p)) == k  # whole diagonals
    again, _ = diagonal_indices(x, p, frac, seed=3)
    other, _ = diagonal_indices(x, p, frac, seed=4)
    assert np.array_equal(tr, again) and not np.array_equal(np.sort(tr), np.sort(other))
    rand = make_data(RunConfig(task="add", p=p, frac=k * p / (p * p), split_seed=3))
    assert rand.train_size() == len(tr)  # a random split of the same size, for comparisons


def test_diagonal_selection_needs_at_least_one_diagonal():
    with pytest.raises(ConfigError, match="valid: 1 to p-1"):
        validate(RunConfig(task="add", p=13, frac=0.02, select="diagonal"))
