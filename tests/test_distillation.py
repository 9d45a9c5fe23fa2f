"""The BiLSTM distilled from a finished run on the unlabeled reviews (``--distill-from``): the
option's checks, what the student trains on, what it reports, and the errors for a teacher that
cannot be used."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("sklearn")

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "data"))
import bilstm_data_fixtures as fx

from bilstm_attention.errors import ConfigError
from bilstm_attention.training import TrainConfig
from tests.test_self_training import _imdb_reviews, _self_training_config, _use_tiny_imdb


@pytest.fixture(scope="module")
def teacher_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Any]:
    """A finished recipe-like run on an aclImdb-like archive with 50 unlabeled reviews: the data
    dir, the run dir and the registry that names the archive ``tiny_imdb``."""
    from bilstm_attention.data import registry as registry_module
    from bilstm_attention.training import train

    tmp_path = tmp_path_factory.mktemp("distillation")
    with pytest.MonkeyPatch.context() as patch:
        data_dir = _use_tiny_imdb(tmp_path, patch, _imdb_reviews())
        registry = registry_module.default_registry()
        train(_self_training_config("tiny_imdb", data_dir), tmp_path / "teacher", verbose=0)
    return data_dir, tmp_path / "teacher", registry


@pytest.fixture
def teacher(teacher_files, monkeypatch) -> tuple[Path, Path]:
    """The teacher run's data dir and run dir, with ``tiny_imdb`` in the registry for this test."""
    from bilstm_attention.data import registry as registry_module

    data_dir, run, registry = teacher_files
    monkeypatch.setattr(registry_module, "default_registry", lambda: registry)
    monkeypatch.setenv("BILSTM_ATTENTION_CACHE", str(data_dir.parent / "cache"))
    return data_dir, run


def _student_config(data_dir: Path, teacher_run: Path, **changes) -> TrainConfig:
    return _self_training_config("tiny_imdb", data_dir).replace(distill_from=str(teacher_run), **changes)


@pytest.mark.parametrize("part", ["model", "bilstm"])
def test_the_student_also_fits_the_unlabeled_reviews_to_the_teachers_probabilities(
    teacher, tmp_path: Path, monkeypatch, part: str
) -> None:
    """``distill_part`` model: the teacher's whole model (its average with NB-LR); bilstm: its
    BiLSTM part alone."""
    from bilstm_attention import load_model
    from bilstm_attention.data import load_unlabeled
    from bilstm_attention.training import train, trainer

    data_dir, teacher_run = teacher
    seen: list[tuple[int, np.ndarray]] = []
    real_training_dataset = trainer.training_dataset

    def spy(ids, labels, **kwargs):
        seen.append((len(ids), np.asarray(labels)))
        return real_training_dataset(ids, labels, **kwargs)

    monkeypatch.setattr(trainer, "training_dataset", spy)
    result = train(_student_config(data_dir, teacher_run, distill_part=part), tmp_path / "student", verbose=0)

    report = json.loads((tmp_path / "student" / "metrics.json").read_text())
    texts = list(load_unlabeled("tiny_imdb", data_dir=str(data_dir)))
    teacher_model = load_model(teacher_run)
    whole, bilstm = teacher_model.predict(texts), teacher_model.predict_bilstm(texts)
    assert np.abs(whole - bilstm).max() > 1e-3  # the two parts of the teacher differ
    expected = bilstm if part == "bilstm" else whole
    (train_count, train_targets), (validation_count, _) = seen
    labelled = report["counts"]["train"]
    assert train_count == labelled + len(texts) == labelled + 50
    assert validation_count == report["counts"]["validation"]
    # the training reviews keep their labels; the unlabeled ones get the teacher's probabilities
    assert set(np.unique(train_targets[:labelled])) <= {0.0, 1.0}
    np.testing.assert_allclose(train_targets[labelled:], expected, rtol=1e-5, atol=1e-6)
    assert not np.isin(train_targets[labelled:], [0.0, 1.0]).all()

    distillation = report["ensemble"]["distillation"]
    teacher_report = json.loads((teacher_run / "metrics.json").read_text())
    assert distillation["teacher_run"] == str(teacher_run)
    assert distillation["teacher_part"] == part
    assert distillation["reviews"] == 50
    assert distillation["teacher_positive_share"] == pytest.approx(float((expected >= 0.5).mean()))
    # the teacher (the part the student learns from) is scored on the student's own validation split
    teacher_accuracy = "deep_validation_accuracy" if part == "bilstm" else "ensemble_validation_accuracy"
    assert distillation["teacher_validation_accuracy"] == pytest.approx(teacher_report["ensemble"][teacher_accuracy])
    assert report["timings"]["distillation_seconds"] > 0
    assert result.test_metrics["accuracy"] > 0.8
    # the student is a plain run: it loads, predicts and resumes nothing from the teacher
    student = load_model(tmp_path / "student")
    probabilities = student.predict(["superb wonderful film", "awful dreary film"])
    assert probabilities[0] > 0.5 > probabilities[1]
    config = json.loads((tmp_path / "student" / "run.json").read_text())["train_config"]
    assert config["fit"]["distill_from"] == str(teacher_run) and config["fit"]["distill_part"] == part


@pytest.mark.parametrize(
    ("changes", "differing"),
    [({"validation_fraction": 0.2}, "validation_fraction"), ({"limit": 60}, "limit")],
)
def test_a_teacher_trained_on_other_splits_is_refused_before_training(
    teacher, tmp_path: Path, changes, differing
) -> None:
    """A teacher whose training reviews may include the student's validation reviews would make
    the student's validation figures meaningless."""
    from bilstm_attention.training import train

    data_dir, teacher_run = teacher
    with pytest.raises(
        ConfigError, match=rf"distill_from '.*teacher' was trained on other data or splits \([^)]*{differing} differ"
    ):
        train(_student_config(data_dir, teacher_run, **changes), tmp_path / "student", verbose=0)
    assert {p.name for p in (tmp_path / "student").iterdir()} <= {".lock"}


def test_a_teacher_that_is_not_a_finished_run_is_named_in_the_error(teacher, tmp_path: Path) -> None:
    from bilstm_attention.training import train

    data_dir, _ = teacher
    (tmp_path / "unfinished").mkdir()
    with pytest.raises(ConfigError, match=r"distill_from '.*unfinished': .*unfinished"):
        train(_student_config(data_dir, tmp_path / "unfinished"), tmp_path / "student", verbose=0)


def test_a_teacher_with_more_than_two_classes_is_refused(teacher, tmp_path: Path, monkeypatch) -> None:
    """Distillation fits one probability per review; a teacher of more classes (same data and
    splits: a registry dataset with more classes and unlabeled reviews) is refused by name."""
    from bilstm_attention.inference import sentiment_model
    from bilstm_attention.training import train

    data_dir, teacher_run = teacher
    real_load_model = sentiment_model.load_model

    def three_classes(path, **kwargs):
        model = real_load_model(path, **kwargs)
        model.class_names = ["negative", "neutral", "positive"]
        return model

    monkeypatch.setattr(sentiment_model, "load_model", three_classes)
    with pytest.raises(ConfigError, match=r"distill_from '.*teacher': the run has 3 classes; .* needs two"):
        train(_student_config(data_dir, teacher_run), tmp_path / "student", verbose=0)
    assert {p.name for p in (tmp_path / "student").iterdir()} <= {".lock"}


def test_the_cli_reports_a_bad_teacher_without_a_traceback(teacher, tmp_path: Path, capsys, monkeypatch) -> None:
    from bilstm_attention.cli import main

    data_dir, teacher_run = teacher
    argv = ["train", "--recipe", "none", "--dataset", "tiny_imdb", "--data-dir", str(data_dir)]
    argv += ["--tokenizer", "whitespace", "--epochs", "1", "--no-tensorboard", "--limit", "60"]
    argv += ["--distill-from", str(teacher_run), "--output", str(tmp_path / "student")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    assert "was trained on other data or splits (" in err and "limit differ" in err


def test_data_without_unlabeled_reviews_fails_before_training(tmp_path: Path) -> None:
    from bilstm_attention.data import registry as registry_module
    from bilstm_attention.training import train

    registry = fx.write_registry(tmp_path / "datasets.yaml", fx.registry_data())
    config = _self_training_config("tiny_nsmc", fx.HERE).replace(nblr_self_training=None, distill_from="somewhere")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(registry_module, "default_registry", lambda: registry)
        with pytest.raises(ConfigError, match="distill_from needs unlabeled reviews, and dataset 'tiny_nsmc' has none"):
            train(config, tmp_path / "run", verbose=0)
    assert not (tmp_path / "run").exists() or {p.name for p in (tmp_path / "run").iterdir()} <= {".lock"}


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"distill_from": ""}, "distill_from must be a run directory"),
        ({"distill_from": 3}, "distill_from must be a run directory"),
        (
            {"distill_from": "runs/x", "ngram_order": 2, "ngram_model": "joint"},
            "distill_from fits the BiLSTM alone .*--ngram-model joint",
        ),
        ({"distill_from": "runs/x", "distill_part": "nblr"}, "distill_part must be one of model, bilstm, got 'nblr'"),
        ({"distill_part": "bilstm"}, r"distill_part 'bilstm' needs a teacher run \(distill_from, --distill-from\)"),
    ],
)
def test_distillation_options_are_checked(values, message) -> None:
    with pytest.raises(ConfigError, match=message):
        TrainConfig.from_dict({"dataset": "imdb", **values})


def test_the_flag_reaches_the_config_and_round_trips() -> None:
    from bilstm_attention.cli.train_cmd import train_config_from_args
    from tests.test_train_config import parse_train

    config = train_config_from_args(parse_train("--dataset", "imdb", "--distill-from", "runs/imdb-1337"))
    assert config.fit.distill_from == "runs/imdb-1337"
    assert config.ngrams.self_training == 0.5  # the recipe's other settings stay
    assert config.fit.distill_part == "model"
    parts = parse_train("--dataset", "imdb", "--distill-from", "r", "--distill-part", "bilstm")
    assert train_config_from_args(parts).fit.distill_part == "bilstm"
    assert TrainConfig.from_dict(config.to_dict()) == config
    assert TrainConfig.from_dict(config.to_flat_dict()) == config
