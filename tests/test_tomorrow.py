"""The documentation's "Tomorrow, step by step" recipe (docs/operator.md), run as written on a day treated as after the
data: gridstatus serves the day as ERCOT had published it on the afternoon before (real prices
cut from the bundled data), and the bundled data sets are cut off before that day, so nothing
can come from them."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SITES
from fake_gridstatus import fake_gridstatus
from real_files import local_days
from typer.testing import CliRunner

from dispatch import InputError, load_inputs, load_site
from dispatch.cli import app
from dispatch.errors import InputWarning
from dispatch.inputs import bundled
from dispatch.inputs.bundled import DATASETS, read_dataset

PAGE = SITES.parent / "docs" / "operator.md"
DAY = "2025-04-08"  # the day after the last bundled hashprice
EVE = pd.Timestamp("2025-04-07 15:00", tz="America/Chicago")  # DAM results are out
runner = CliRunner()


def squash(text: str) -> str:
    """Text without whitespace (the terminal wraps long paths anywhere)."""
    return "".join(text.split())


def recipe() -> list[str]:
    """The lines of the first bash block under the recipe's heading."""
    text = PAGE.read_text()
    section = text[text.index("### Tomorrow, step by step") :]
    block = section[section.index("```bash\n") + len("```bash\n") :]
    return [line for line in block[: block.index("```")].splitlines() if line.strip()]


def after_the_data(monkeypatch, day: str) -> None:
    """Every bundled data set ends before ``day`` (local midnight, America/Chicago)."""
    read = bundled._read
    cut = pd.Timestamp(day, tz="America/Chicago")

    def before(name: str) -> pd.DataFrame:
        frame = read(name)
        if DATASETS[name].daily:
            return frame[[d < cut.date() for d in frame.index]]
        return frame[frame.index < cut]

    monkeypatch.setattr(bundled, "_read", before)


def run_recipe(tmp_path: Path) -> list[object]:
    """Each line as a shell would run it: ``DAY=`` sets the day; every other line is a
    `dispatch` command, with ``sites/`` taken from the repository and other relative paths in
    ``tmp_path``."""
    results = []
    day = None
    for line in recipe():
        command = line.split("#")[0].strip()
        if command.startswith("DAY="):
            # tomorrow in ERCOT's time, not the machine's: a server on UTC asked after 19:00 CDT
            # (or an operator east of Texas after midnight) would name the day after
            assert "TZ=America/Chicago date" in line, line
            day = DAY
            continue
        words = shlex.split(command.replace("$DAY", str(day)))
        assert words[0] == "dispatch", f"the recipe runs dispatch commands only: {line!r}"
        args = []
        for word in words[1:]:
            if word.startswith("sites/"):
                word = str(SITES.parent / word)
            elif "/" in word and not word.startswith("/"):
                word = str(tmp_path / word)
            args.append(word)
        result = runner.invoke(app, args)
        assert result.exit_code == 0, f"{line}\n{result.output}"
        results.append(result)
    return results


def test_the_recipe_plans_a_day_after_the_data(tmp_path: Path, monkeypatch):
    monkeypatch.setitem(sys.modules, "gridstatus", fake_gridstatus(DAY, EVE))
    after_the_data(monkeypatch, DAY)
    with pytest.raises(InputError, match="covers"), pytest.warns(InputWarning):
        load_inputs(load_site(SITES / "west_texas_hybrid.yaml"), DAY)  # nothing bundled is left
    fetched, planned = run_recipe(tmp_path)
    folder = tmp_path / "inputs" / DAY
    assert sorted(p.name for p in folder.iterdir()) == [
        "ancillary.csv",
        "da_prices.csv",
        "hashprice.csv",
    ]
    note = "note: rt_prices.csv: not written: fetch: ERCOT has not published real-time prices"
    assert squash(note) in squash(fetched.output)
    output = squash(planned.output)
    for series, file in [
        ("price_usd_per_mwh", "da_prices.csv (day-ahead)"),
        ("hashprice_usd_per_ph_day", "hashprice.csv"),
        ("rrs_usd_per_mw_h", "ancillary.csv"),
        ("ecrs_usd_per_mw_h", "ancillary.csv"),
        ("nspin_usd_per_mw_h", "ancillary.csv"),
    ]:
        assert squash(f"{series}: {folder / file}") in output
    assert (
        squash(
            f"warning: {folder / 'hashprice.csv'}: hashprice_usd_per_ph_day for 2025-04-08 is "
            "2025-04-07's 41.59 USD/PH/day held forward (the last value known, 1 day before)"
        )
        in output
    )
    plans = tmp_path / "plans" / DAY
    schedule = pd.read_csv(plans / "schedule.csv")
    streams = pd.read_csv(plans / "streams.csv")
    monkeypatch.undo()  # the real bundled day, to compare with
    dam = local_days(read_dataset("ercot_dam_spp"), DAY)["HB_WEST"]
    assert np.array_equal(schedule["price_usd_per_mwh"], np.repeat(dam.to_numpy(), 4))
    assert len(schedule) == 96 and schedule["interval_start"][0] == "2025-04-08T00:00:00-05:00"
    kpis = pd.read_json(plans / "kpis.json", typ="series")
    assert streams["usd"].sum() == pytest.approx(kpis["objective_usd"], rel=1e-9, abs=1e-6)
