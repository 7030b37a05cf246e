"""The one-liner's learnt sentence scorer (paperdiary.stages.drafting.oneliner) and its shipped weights."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from paperdiary.stages.drafting import oneliner

ROOT = Path(__file__).resolve().parents[2]


def test_the_weights_ship_in_the_package_and_are_small() -> None:
    shipped = resources.files("paperdiary.stages.drafting").joinpath(oneliner.WEIGHTS_FILE)
    assert shipped.is_file() and len(shipped.read_bytes()) < 64_000
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert oneliner.WEIGHTS_FILE in package_data["paperdiary.stages.drafting"]
    model = oneliner.scorer()
    assert len(model.weights) == len(model.mean) == len(oneliner.FEATURES)
    assert model.rates.words["we"] > model.rates.words["however"]  # learnt from real TL;DRs


def test_the_proposal_beats_background_and_results_detail() -> None:
    sentences = [
        "Mixed precision training is becoming a practical technique to improve the speed of training deep networks.",
        "Unfortunately, existing methods make the loss scale a hyperparameter that needs to be tuned per model.",
        "In this paper, we introduce adaptive loss scaling, which makes mixed precision training easier to use.",
        "We present experimental results on a variety of networks and tasks, listed in the appendix.",
    ]
    line = oneliner.describe(sentences, "Adaptive Loss Scaling for Mixed Precision Training", 159)
    assert line == "We introduce adaptive loss scaling, which makes mixed precision training easier to use"
    assert oneliner.describe([], "A title") is None


def test_a_long_sentence_is_cut_at_a_clause_and_loses_its_asides_first() -> None:
    long = ("We propose StormNet (a graph network over icosahedral meshes), which passes messages between levels "
            "in one step, produces a 15-day forecast in 90 seconds, and beats the operational ensemble on most "
            "targets of the benchmark.")
    line = oneliner.rewrite(long, 120)
    assert len(line) <= 120 and "(" not in line and line.startswith("We propose StormNet")
    assert not line.endswith((",", "and", "the")) and "StormNet, which" in line
    assert oneliner.rewrite("Here, we study X.") == "We study X"
