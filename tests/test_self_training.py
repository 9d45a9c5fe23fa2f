"""NB-LR taught by the unlabeled reviews it labels itself (``--nblr-self-training``): the fit,
its options, the error for data without unlabeled reviews, and a whole run on an aclImdb-like
archive with ``unsup`` reviews."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("sklearn")

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "data"))
import bilstm_data_fixtures as fx

from bilstm_attention.errors import ConfigError
from bilstm_attention.features.nblr import fit_nblr, ngram_matrix, self_train_nblr
from bilstm_attention.training import TrainConfig

# feature ids: 1 and 2 are the cues of the training reviews (positive, negative); 3 and 4 are
# cues that only the unlabeled reviews show next to 1 and 2; 5..19 are filler
NUM_FEATURES = 20


def _reviews(rng: np.random.Generator, labels: np.ndarray, cues: tuple[int, int], extra: tuple[int, int] | None):
    rows = []
    for label in labels:
        row = [cues[0] if label else cues[1], *rng.integers(5, NUM_FEATURES, 3)]
        if extra is not None:
            row.append(extra[0] if label else extra[1])
        rows.append(np.asarray(row))
    return ngram_matrix(rows, NUM_FEATURES)


def _problem(seed: int = 0):
    """Training reviews tell the classes apart by features 1 and 2; validation reviews only by
    3 and 4, which the unlabeled reviews show next to 1 and 2."""
    rng = np.random.default_rng(seed)
    train_labels = rng.integers(0, 2, 40)
    unlabeled_labels = rng.integers(0, 2, 200)
    validation_labels = rng.integers(0, 2, 60)
    return (
        _reviews(rng, train_labels, (1, 2), None),
        train_labels,
        _reviews(rng, unlabeled_labels, (1, 2), (3, 4)),
        _reviews(rng, validation_labels, (3, 4), None),
        validation_labels,
    )


def test_self_training_learns_what_only_the_unlabeled_reviews_show() -> None:
    train, labels, unlabeled, validation, validation_labels = _problem()
    first = fit_nblr(train, labels, validation, validation_labels, c_values=[1.0])
    # the first fit never saw features 3 and 4: on validation it is left with its bias
    assert first.weights[3] == first.weights[4] == 0.0
    assert first.validation_accuracy[1.0] < 0.7
    second = self_train_nblr(first, train, labels, unlabeled, validation, validation_labels, c_values=[0.3, 1.0])
    assert second.weights[3] > 0 > second.weights[4]
    assert second.validation_accuracy[second.C] == 1.0
    report = second.self_training
    assert report is not None
    assert (report.confidence, report.unlabeled, report.added) == (0.5, 200, 200)
    assert (report.first_C, report.first_validation_accuracy) == (1.0, first.validation_accuracy[1.0])


def test_confidence_keeps_only_the_reviews_the_first_fit_is_sure_of() -> None:
    train, labels, unlabeled, validation, validation_labels = _problem(seed=1)
    first = fit_nblr(train, labels, validation, validation_labels, c_values=[1.0])
    probabilities = first.predict_proba(unlabeled)
    confidence = float(np.quantile(np.maximum(probabilities, 1 - probabilities), 0.4))
    np.random.seed(3)  # liblinear shuffles with numpy's global generator; a run seeds it
    second = self_train_nblr(first, train, labels, unlabeled, validation, validation_labels, confidence=confidence)
    expected = int((np.maximum(probabilities, 1 - probabilities) >= confidence).sum())
    assert second.self_training is not None
    assert 0 < second.self_training.added == expected < 200
    # the same inputs and seed give the same model
    np.random.seed(3)
    again = self_train_nblr(first, train, labels, unlabeled, validation, validation_labels, confidence=confidence)
    np.testing.assert_array_equal(second.weights, again.weights)


@pytest.mark.parametrize("confidence", [0.4, 1.0, True, "0.6"])
def test_self_training_rejects_a_confidence_outside_its_range(confidence) -> None:
    train, labels, unlabeled, validation, validation_labels = _problem()
    first = fit_nblr(train, labels, validation, validation_labels)
    with pytest.raises(ConfigError, match="at least 0.5 and below 1"):
        self_train_nblr(first, train, labels, unlabeled, validation, validation_labels, confidence=confidence)


def test_self_training_rejects_unlabeled_features_of_another_width() -> None:
    train, labels, _, validation, validation_labels = _problem()
    first = fit_nblr(train, labels, validation, validation_labels)
    narrow = ngram_matrix([np.array([1, 2])], 5)
    with pytest.raises(ConfigError, match="the unlabeled reviews have 5 feature columns, the training reviews 20"):
        self_train_nblr(first, train, labels, narrow, validation, validation_labels)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"nblr_self_training": 0.5}, "needs the NB-LR part: --ngram-model nblr and an --ngram-order"),
        ({"ngram_order": 2, "ngram_model": "joint", "nblr_self_training": 0.5}, "needs the NB-LR part"),
        ({"ngram_order": 2, "ngram_model": "nblr", "nblr_self_training": 0.3}, "at least 0.5 and below 1"),
        ({"ngram_order": 2, "ngram_model": "nblr", "nblr_self_training": 1}, "at least 0.5 and below 1"),
    ],
)
def test_self_training_options_are_checked(values, message) -> None:
    with pytest.raises(ConfigError, match=message):
        TrainConfig.from_dict({"dataset": "imdb", **values})


def test_the_flag_reaches_the_config() -> None:
    config = TrainConfig.from_dict(
        {"dataset": "imdb", "ngram_order": 2, "ngram_model": "nblr", "nblr_self_training": 0.9}
    )
    assert config.ngrams.self_training == 0.9
    assert TrainConfig.from_dict(config.to_dict()) == config


def test_a_file_without_unlabeled_reviews_fails_before_training(tmp_path: Path, capsys) -> None:
    from bilstm_attention.cli import main
    from tests.test_train_cli import train_args, write_reviews

    reviews = write_reviews(tmp_path / "reviews.csv", 60)
    run = tmp_path / "run"
    flags = "--epochs 1 --ngram-order 2 --ngram-model nblr --nblr-self-training 0.5"
    assert main(train_args(reviews, run, *flags.split())) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    assert "nblr_self_training needs unlabeled reviews, and a user's file has none" in err
    # the run directory was never started: at most its lock was taken
    assert not run.exists() or {p.name for p in run.iterdir()} <= {".lock"}


POSITIVE = ["superb", "wonderful", "moving"]
NEGATIVE = ["awful", "dreary", "tedious"]
FILLER = ["the", "film", "plot", "actor", "scene", "story", "music", "ending", "cast", "camera"]


def _imdb_reviews(seed: int = 0) -> dict[tuple[str, str], list[tuple[int, int, str]]]:
    rng = np.random.default_rng(seed)

    def review(cues: list[str]) -> str:
        words = [*rng.choice(FILLER, size=int(rng.integers(4, 12))), *rng.choice(cues, size=2)]
        rng.shuffle(words)
        return " ".join(words)

    counts = {("train", "pos"): 40, ("train", "neg"): 40, ("test", "pos"): 15, ("test", "neg"): 15}
    reviews = {
        (split, folder): [
            (i, 8 if folder == "pos" else 2, review(POSITIVE if folder == "pos" else NEGATIVE)) for i in range(n)
        ]
        for (split, folder), n in counts.items()
    }
    reviews[("train", "unsup")] = [(i, 0, review(POSITIVE if i % 2 else NEGATIVE)) for i in range(50)]
    return reviews


def _use_tiny_imdb(tmp_path: Path, monkeypatch, reviews) -> Path:
    """The data dir of an aclImdb-like archive with ``reviews``, registered as ``tiny_imdb``."""
    from bilstm_attention.data import registry as registry_module

    data_dir = tmp_path / "data"
    (data_dir / "tiny_imdb").mkdir(parents=True)
    archive = fx.build_imdb_tar(data_dir / "tiny_imdb" / "aclImdb_v1.tar.gz", reviews=reviews)
    data = fx.registry_data(imdb_archive=archive)
    data["datasets"]["tiny_imdb"]["structure"] = fx.imdb_counts(reviews)
    registry = fx.write_registry(tmp_path / "datasets.yaml", data)
    monkeypatch.setattr(registry_module, "default_registry", lambda: registry)
    monkeypatch.setenv("BILSTM_ATTENTION_CACHE", str(tmp_path / "cache"))
    return data_dir


def _self_training_config(dataset: str, data_dir: Path) -> TrainConfig:
    return TrainConfig.from_dict(
        {
            "dataset": dataset,
            "data_dir": str(data_dir),
            "tokenizer": "whitespace",
            "ngram_order": 2,
            "ngram_min_count": 1,
            "ngram_model": "nblr",
            "nblr_self_training": 0.5,
            "epochs": 1,
            "tensorboard": False,
            "classifier": {"lstm_units": [8], "embedding_dim": 8, "attention_units": 8},
        }
    )


def test_a_registry_dataset_without_unlabeled_reviews_fails_before_training(tmp_path: Path) -> None:
    from bilstm_attention.data import registry as registry_module
    from bilstm_attention.training import train

    registry = fx.write_registry(tmp_path / "datasets.yaml", fx.registry_data())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(registry_module, "default_registry", lambda: registry)
        with pytest.raises(
            ConfigError, match="nblr_self_training needs unlabeled reviews, and dataset 'tiny_nsmc' has none"
        ):
            train(_self_training_config("tiny_nsmc", fx.HERE), tmp_path / "run", verbose=0)
    assert not (tmp_path / "run").exists() or {p.name for p in (tmp_path / "run").iterdir()} <= {".lock"}


def test_an_archive_whose_unsup_folder_is_empty_fails_before_training(tmp_path: Path, monkeypatch) -> None:
    from bilstm_attention.training import train

    reviews = {key: value for key, value in _imdb_reviews().items() if key != ("train", "unsup")}
    data_dir = _use_tiny_imdb(tmp_path, monkeypatch, reviews)
    with pytest.raises(
        ConfigError, match="nblr_self_training needs unlabeled reviews, and dataset 'tiny_imdb' has none"
    ):
        train(_self_training_config("tiny_imdb", data_dir), tmp_path / "run", verbose=0)
    # the run directory was never started: at most its lock was taken
    assert {p.name for p in (tmp_path / "run").iterdir()} <= {".lock"}


def test_a_self_trained_run_reports_what_it_added(tmp_path: Path, monkeypatch) -> None:
    """A whole run on an aclImdb-like archive with 50 unlabeled reviews: NB-LR is fitted again
    with all of them, the run says so, and the saved ensemble loads and predicts."""
    from bilstm_attention import load_model
    from bilstm_attention.training import train

    data_dir = _use_tiny_imdb(tmp_path, monkeypatch, _imdb_reviews())
    config = _self_training_config("tiny_imdb", data_dir)
    result = train(config, tmp_path / "run", verbose=0)
    report = json.loads((tmp_path / "run" / "metrics.json").read_text())
    added = report["ensemble"]["nblr_self_training"]
    assert added["confidence"] == 0.5 and added["unlabeled"] == added["added"] == 50
    assert 0 < added["first_validation_accuracy"] <= 1
    assert report["timings"]["nblr_self_training_seconds"] > 0
    assert report["timings"]["unlabeled_tokenize_seconds"] >= 0
    assert result.test_metrics["accuracy"] > 0.8
    model = load_model(tmp_path / "run")
    probabilities = model.predict(["superb wonderful film", "awful dreary film"])
    assert probabilities[0] > 0.5 > probabilities[1]


def test_flags_that_turn_nblr_off_drop_the_recipes_nblr_settings() -> None:
    """IMDB's recipe self-trains NB-LR and NSMC's distils from it: a user who switches the NB-LR
    part off with a flag gets neither, while asking for them next to the switch still errs."""
    from bilstm_attention.cli.train_cmd import train_config_from_args
    from tests.test_train_config import parse_train

    joint = train_config_from_args(parse_train("--dataset", "imdb", "--ngram-model", "joint"))
    assert joint.ngrams.model == "joint" and joint.ngrams.self_training is None
    nsmc = train_config_from_args(parse_train("--dataset", "nsmc", "--ngram-model", "joint"))
    assert nsmc.ngrams.model == "joint" and nsmc.ngrams.teacher_weight is None
    kept = train_config_from_args(parse_train("--dataset", "imdb"))
    assert kept.ngrams.self_training == 0.5
    with pytest.raises(ConfigError, match="nblr_self_training needs the NB-LR part"):
        train_config_from_args(
            parse_train("--dataset", "imdb", "--ngram-model", "joint", "--nblr-self-training", "0.5")
        )
