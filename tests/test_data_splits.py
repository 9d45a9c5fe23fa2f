"""The deterministic split and subset rules (properties checked with hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from bilstm_attention.data.splits import (
    balanced_quota,
    balanced_subset,
    grouped_stratified_holdout,
    hash_ranks,
    holdout_size,
    limit_sizes,
    stratified_holdout,
)

labelled = st.lists(st.tuples(st.text(min_size=1, max_size=12), st.integers(0, 2)), min_size=0, max_size=60)


@settings(max_examples=60, deadline=None)
@given(rows=labelled, fraction=st.floats(0.01, 0.9), seed=st.integers(0, 2**31))
def test_holdout_is_stratified_exact_and_order_independent(rows, fraction, seed):
    keys = [f"{i}:{text}" for i, (text, _) in enumerate(rows)]
    labels = np.array([label for _, label in rows], dtype=np.int64)
    mask = stratified_holdout(labels, keys, fraction, seed)
    for cls in set(labels.tolist()):
        n = int((labels == cls).sum())
        assert int(mask[labels == cls].sum()) == holdout_size(n, fraction)
    # the same reviews are held out whatever the order of the rows
    order = np.random.default_rng(seed).permutation(len(rows))
    shuffled = stratified_holdout(labels[order], [keys[i] for i in order], fraction, seed)
    assert {keys[i] for i in order[shuffled]} == {keys[i] for i in np.flatnonzero(mask)}


@settings(max_examples=60, deadline=None)
@given(rows=labelled, total=st.integers(2, 40), seed=st.integers(0, 1000))
def test_balanced_subset(rows, total, seed):
    keys = [f"{i}:{text}" for i, (text, _) in enumerate(rows)]
    labels = np.array([label for _, label in rows], dtype=np.int64)
    index = balanced_subset(labels, keys, total, 3, seed)
    assert list(index) == sorted(set(index.tolist()))
    for cls, quota in enumerate(balanced_quota(total, 3)):
        assert int((labels[index] == cls).sum()) == min(quota, int((labels == cls).sum()))
    assert np.array_equal(index, balanced_subset(labels, keys, total, 3, seed))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), copies=st.integers(2, 6), fraction=st.floats(0.05, 0.6))
def test_identical_texts_with_the_same_label_stay_on_one_side(seed, copies, fraction):
    keys = ["same review"] * copies + [f"review {i}" for i in range(40)]
    labels = np.zeros(len(keys), dtype=np.int64)
    mask = stratified_holdout(labels, keys, fraction, seed)
    assert mask[:copies].all() or not mask[:copies].any()
    target = holdout_size(len(keys), fraction)
    assert target <= mask.sum() < target + copies


def test_a_class_of_identical_texts_is_not_split():
    mask = stratified_holdout(np.zeros(4, dtype=np.int64), ["x"] * 4, 0.25, seed=1)
    assert not mask.any()


def test_holdout_sizes():
    assert holdout_size(0, 0.25) == 0
    assert holdout_size(1, 0.25) == 0  # a lone review stays in train
    assert holdout_size(2, 0.01) == 1  # at least one when there are two
    assert holdout_size(10, 0.99) == 9  # never all
    assert holdout_size(150_000, 0.1) == 15_000
    assert holdout_size(7, 0.5) == 4  # round half up, not to even


def test_seed_changes_the_split_and_ranks_are_stable():
    keys = [f"k{i}" for i in range(1000)]
    labels = np.zeros(1000, dtype=np.int64)
    assert not np.array_equal(stratified_holdout(labels, keys, 0.1, 1), stratified_holdout(labels, keys, 0.1, 2))
    # blake2b of "<seed>\x1f<key>": the same on every platform and Python version
    assert int(hash_ranks(["review"], 42)[0]) == int.from_bytes(
        __import__("hashlib").blake2b(b"42\x1freview", digest_size=8).digest(), "big"
    )


def test_limit_sizes():
    assert limit_sizes(1000, 0.25, 2) == (1000, 250)
    assert limit_sizes(2, 0.25, 2) == (2, 2)
    assert balanced_quota(5, 2) == [3, 2]


grouped = st.lists(st.tuples(st.sampled_from("abcdefghij"), st.integers(0, 1)), min_size=0, max_size=80)


@settings(max_examples=60, deadline=None)
@given(rows=grouped, fraction=st.floats(0.01, 0.9), seed=st.integers(0, 2**31))
def test_grouped_holdout_keeps_groups_whole_within_each_class_quota(rows, fraction, seed):
    groups = [group for group, _ in rows]
    labels = np.array([label for _, label in rows], dtype=np.int64)
    mask = grouped_stratified_holdout(labels, groups, fraction, seed)
    held, kept = {g for g, m in zip(groups, mask) if m}, {g for g, m in zip(groups, mask) if not m}
    assert not held & kept  # no group is split
    for cls in set(labels.tolist()):
        in_class = labels == cls
        assert int(mask[in_class].sum()) <= holdout_size(int(in_class.sum()), fraction)
        assert not mask[in_class].all() or int(in_class.sum()) == 0  # never a whole class
    order = np.random.default_rng(seed).permutation(len(rows))
    again = grouped_stratified_holdout(labels[order], [groups[i] for i in order], fraction, seed)
    assert np.array_equal(again, mask[order])


def test_grouped_holdout_fills_each_class_quota_when_small_groups_allow():
    # 30 movies of 1-4 reviews: the visit skips a movie that no longer fits and takes later ones
    groups = [f"tt{m:03d}" for m in range(30) for _ in range(1 + (m // 2) % 4)]
    labels = np.array([m % 2 for m in range(30) for _ in range(1 + (m // 2) % 4)])
    mask = grouped_stratified_holdout(labels, groups, 0.25, 1337)
    quotas = [holdout_size(int((labels == c).sum()), 0.25) for c in (0, 1)]
    assert [int(mask[labels == c].sum()) for c in (0, 1)] == quotas
    assert not grouped_stratified_holdout(labels, groups, 0.0, 1337).any()
    # one group holding a whole class is never held out (it would empty the class in train)
    one_group = grouped_stratified_holdout(np.array([0, 0, 1, 1, 1]), ["a", "a", "b", "c", "d"], 0.5, 7)
    assert not one_group[:2].any() and one_group[2:].sum() == 2
