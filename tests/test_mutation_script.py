"""benchmarks/mutation.py: the stratified sample and the score's interval."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "mutation.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mutation_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def mutation(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    module = load_script()
    names = [f"dispatch.batch.f__mutmut_{i}" for i in range(40)]
    names += [f"dispatch.results.g__mutmut_{i}" for i in range(3)]
    monkeypatch.setattr(module, "read_results", lambda: dict.fromkeys(names, ("", None)))
    return module


def test_the_sample_draws_its_size_from_each_glob(mutation: ModuleType) -> None:
    sample = mutation.draw_sample(["dispatch.batch.*", "dispatch.results.*"], 5, seed=1)
    assert sum(name.startswith("dispatch.batch.") for name in sample) == 5
    assert sum(name.startswith("dispatch.results.") for name in sample) == 3  # all there are
    assert sample == mutation.draw_sample(["dispatch.batch.*", "dispatch.results.*"], 5, seed=1)


def test_a_glob_without_mutants_is_named(mutation: ModuleType) -> None:
    with pytest.raises(LookupError, match=r"dispatch\.streams"):
        mutation.draw_sample(["dispatch.batch.*", "dispatch.streams.*"], 5, seed=1)


def test_wilson_interval_of_8_in_10() -> None:
    low, high = load_script().wilson_interval(8, 10)  # textbook: 0.490 to 0.943
    assert low == pytest.approx(0.4902, abs=1e-4)
    assert high == pytest.approx(0.9433, abs=1e-4)
