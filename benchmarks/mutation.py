"""Mutation testing: how many deliberate one-line bugs does the test suite catch?

    pip install -e '.[mutation]'
    python benchmarks/mutation.py                      # everything in [tool.mutmut] only_mutate
    python benchmarks/mutation.py "dispatch.model.*"   # only mutants of these functions
    python benchmarks/mutation.py --report-only        # the score of the last run, no tests
    python benchmarks/mutation.py "dispatch.model.*" --sample 100 --seed 1   # a random sample
    python benchmarks/mutation.py "dispatch.batch.*" "dispatch.results.*" --sample 15   # 15 each

``--sample N`` tests a seeded random sample of N of the mutants matching each glob (all of them
take hours on 2 cores: every mutant that survives runs every test that reaches its function) and
reports each package's score with its 95 % Wilson interval; the other mutants stay "not run".

Runs mutmut (configured in pyproject.toml, ``[tool.mutmut]``) at ``nice -n 10``: it copies the
package into ``mutants/``, makes one mutant per operator and place (a ``<`` for a ``<=``, a
dropped argument, a ``+`` for a ``-``, ...), learns which tests call which function (one traced run
of the non-slow suite) and runs, per mutant, only the tests that reach the mutated function, with
``-x``. Results are cached in ``mutants/``: a second run re-tests only what changed.

The score per package is killed / (mutants - equivalent - not run; a run stopped early leaves
mutants "not run"). A mutant counts as killed when a test failed, timed out or the process died;
``no tests`` (no test reaches the function) counts as survived. Equivalent mutants (no test
could ever tell them apart, e.g. a bound that another constraint already implies) are listed
with the reason in ``benchmarks/mutation_equivalent.toml`` by mutant name and the mutated line;
an entry whose line no longer matches is reported as stale.
Writes ``benchmarks/results/mutation.json`` (scores and the surviving mutants with their diffs).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import math
import os
import random
import subprocess
import sys
import time
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENT = ROOT / "benchmarks" / "mutation_equivalent.toml"
RESULTS = ROOT / "benchmarks" / "results" / "mutation.json"
PACKAGES = (
    "dispatch/model",
    "dispatch/results.py",
    "dispatch/streams.py",
    "dispatch/batch",
    "dispatch/sizing/model.py",
    "dispatch/inputs/align.py",
)
KILLED = {1, 3, 24, -24, 36, 37, 152, 255, -9, -11}  # failed, timed out, died, type check
SURVIVED = {0, 5, 33}  # tests passed, or no test reaches the function


def run_mutmut(names: list[str], max_children: int) -> float:
    """``mutmut run`` at low priority; returns the wall time [s]."""
    started = time.perf_counter()
    command = ["nice", "-n", "10", sys.executable, "-m", "mutmut", "run"]
    command += ["--max-children", str(max_children), *names]
    subprocess.run(command, cwd=ROOT, check=False, env={**os.environ, "PYTHONHASHSEED": "0"})
    return time.perf_counter() - started


def generate_mutants() -> None:
    """mutmut's first step alone (copy the sources, write the mutants): a sample needs names."""
    steps = (
        "from mutmut.__main__ import create_mutants",
        "from mutmut.utils.file_utils import copy_also_copy_files, copy_src_dir,"
        " setup_source_paths",
        "copy_src_dir(); copy_also_copy_files(); setup_source_paths(); create_mutants(2)",
    )
    subprocess.run([sys.executable, "-c", "\n".join(steps)], cwd=ROOT, check=True)


def draw_sample(globs: list[str], size: int, seed: int) -> list[str]:
    """``size`` mutant names drawn at random (seeded) among those matching each glob in turn
    (a stratified sample: ``size`` per glob, so each package gets its own score), or among all
    mutants when no glob is given."""
    everything = sorted(read_results())
    sample: set[str] = set()
    for pattern in globs or ["*"]:
        names = sorted(set(fnmatch.filter(everything, pattern)) - sample)
        if not names:
            raise LookupError(f"no mutant matches {pattern!r}")
        sample.update(random.Random(seed).sample(names, min(size, len(names))))
    return sorted(sample)


def wilson_interval(killed: int, judged: int, z: float = 1.96) -> tuple[float, float]:
    """The 95 % Wilson score interval of a proportion killed / judged."""
    share = killed / judged
    centre = (share + z * z / (2 * judged)) / (1 + z * z / judged)
    half = z * math.sqrt(share * (1 - share) / judged + z * z / (4 * judged * judged))
    return (centre - half / (1 + z * z / judged), centre + half / (1 + z * z / judged))


def package_of(source: str) -> str:
    return next((p for p in PACKAGES if source == p or source.startswith(p + "/")), source)


def read_results() -> dict[str, tuple[str, int | None]]:
    """Every mutant's source file and exit code, from mutmut's ``mutants/**/*.meta``."""
    results = {}
    for meta in (ROOT / "mutants").glob("dispatch/**/*.py.meta"):
        source = str(meta.relative_to(ROOT / "mutants"))[: -len(".meta")]
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            results[name] = (source, code)
    return results


def mutant_diff(name: str, source: str) -> str:
    """The mutated lines (``-`` original, ``+`` mutant) of one mutant."""
    os.chdir(ROOT)  # mutmut reads ``mutants/`` relative to the working directory
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    lines = get_diff_for_mutant(name, path=source).splitlines()
    return "\n".join(
        line for line in lines if line[:1] in "+-" and not line.startswith(("+++", "---"))
    )


def equivalents() -> dict[str, dict[str, str]]:
    if not EQUIVALENT.exists():
        return {}
    return {e["mutant"]: e for e in tomllib.loads(EQUIVALENT.read_text()).get("equivalent", [])}


def report(seconds: float | None) -> dict[str, object]:
    results = read_results()
    listed = equivalents()
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    survivors, stale = [], []
    for name, (source, code) in sorted(results.items()):
        package = package_of(source)
        counts[package]["mutants"] += 1
        if code in KILLED:
            counts[package]["killed"] += 1
            continue
        if code not in SURVIVED:
            counts[package]["not run"] += 1
            continue
        diff = mutant_diff(name, source)
        entry = listed.get(name)
        if entry is not None and entry["line"].strip() in diff:
            counts[package]["equivalent"] += 1
            continue
        if entry is not None:
            stale.append(name)
        counts[package]["survived"] += 1
        survivors.append({"mutant": name, "no_tests": code in (5, 33), "diff": diff})
    scores = {}
    for package, c in sorted(counts.items()):
        judged = c["mutants"] - c["equivalent"] - c["not run"]
        kinds = ("mutants", "killed", "equivalent", "survived", "not run")
        scores[package] = {kind: c[kind] for kind in kinds}  # zeros kept
        scores[package]["score"] = round(c["killed"] / judged, 4) if judged else None
        if judged and c["not run"]:  # a sample (or a stopped run): the score's uncertainty
            low, high = wilson_interval(c["killed"], judged)
            scores[package]["score_95"] = [round(low, 4), round(high, 4)]
    return {
        "seconds": seconds,
        "scores": scores,
        "stale_equivalents": stale,
        "survivors": survivors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="mutant name globs, e.g. 'dispatch.model.*'")
    parser.add_argument("--max-children", type=int, default=2, help="parallel test processes")
    parser.add_argument("--report-only", action="store_true", help="score the last run")
    parser.add_argument(
        "--sample", type=int, help="test only this many mutants per glob, drawn at random"
    )
    parser.add_argument("--seed", type=int, default=1, help="the sample's random seed")
    args = parser.parse_args()
    if args.sample is not None and args.sample < 1:
        parser.error(f"--sample: expected at least 1 mutant, found {args.sample}")
    names = args.names
    if args.sample is not None and not args.report_only:
        generate_mutants()
        try:
            names = draw_sample(args.names, args.sample, args.seed)
        except LookupError as error:
            parser.error(str(error))  # one line, exit 2
    seconds = None if args.report_only else run_mutmut(names, args.max_children)
    result = report(seconds)
    if args.sample is not None:
        result["sample"] = {"size": len(names), "seed": args.seed, "of": args.names}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    header = f"{'package':28} {'mutants':>8} {'killed':>7} {'equiv.':>7} {'survived':>9}"
    print(f"{header} {'not run':>8} {'score':>7}  95 % interval")
    for package, c in result["scores"].items():
        score = "-" if c["score"] is None else f"{100 * c['score']:.1f}%"
        if "score_95" in c:
            score += "  {:.1f}-{:.1f}%".format(*(100 * x for x in c["score_95"]))
        print(
            f"{package:28} {c['mutants']:8d} {c['killed']:7d} {c['equivalent']:7d} "
            f"{c['survived']:9d} {c['not run']:8d} {score:>7}"
        )
    if seconds is not None:
        print(f"wall time {seconds / 60:.1f} min; survivors and diffs in {RESULTS}")
    for name in result["stale_equivalents"]:
        print(f"stale entry in {EQUIVALENT.name}: {name} (its line changed)")


if __name__ == "__main__":
    main()
