"""Hostile options, API calls and input files: each is refused with a ``dispatch.errors`` type
(one line, exit 2 from the CLI) before any solver runs; a carried state no schedule can start
from and HPC load shed for lack of fuel say why."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import SITES, fleet, make_inputs, make_site, mining
from typer.testing import CliRunner

from dispatch import InputError, load_inputs, load_site, solve
from dispatch.batch.runner import run_batch
from dispatch.batch.tasks import plan_tasks
from dispatch.cli import app
from dispatch.errors import ArgumentError
from dispatch.model.battery import BatteryState
from dispatch.model.mining import FleetState
from dispatch.model.state import SiteState
from dispatch.options import SolveOptions
from dispatch.shortfall import hpc_shortfall
from dispatch.site import parse_site

runner = CliRunner()
HOURLY = SITES / "west_texas_hybrid_hourly.yaml"
HYBRID = SITES / "west_texas_hybrid.yaml"


def one_line_exit_2(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


# --- options ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--time-limit", "nan"], "time_limit_s (--time-limit): expected a finite number of seconds > 0, found nan"),
        (["--time-limit", "inf"], "time_limit_s (--time-limit): expected a finite number of seconds > 0, found inf"),
        (["--mip-gap", "nan"], "mip_rel_gap (--mip-gap): expected 0 <= gap < 1, found nan"),
        (["--day", ""], "--day: expected a date as YYYY-MM-DD, found ''"),
        (["--start", ""], "--start: expected a date as YYYY-MM-DD, found ''"),
        (["--end", "2023-08-18"], "--end: needs --start (the first day); for one day use --day"),
        (["--timezone", "Mars/Olympus_Mons"], "--timezone: unknown IANA time zone 'Mars/Olympus_Mons'"),
    ],
)  # fmt: skip
def test_run_options_are_refused_with_one_line(args, message):
    line = one_line_exit_2("run", str(HOURLY), *args)
    assert message in line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fill", "bogus"], "'bogus' is not one of 'hold', 'interpolate'"),
        (["--format", "xlsx"], "'xlsx' is not one of 'csv', 'parquet', 'json'"),
    ],
)
def test_choices_are_checked_by_the_command_line_parser(tmp_path: Path, args, message):
    result = runner.invoke(app, ["run", str(HOURLY), "--out", str(tmp_path / "out"), *args])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert message in result.output and "Try 'root run -h' for help." in result.output
    assert not (tmp_path / "out").exists()


def test_size_refuses_zero_representative_days():
    line = one_line_exit_2(
        "size", str(SITES / "retrofit_campus.yaml"), "--representative-days", "0"
    )
    assert "--representative-days: expected at least 1, found 0" in line


def test_data_export_refuses_an_unknown_time_zone(tmp_path: Path):
    line = one_line_exit_2(
        "data", "export", "btc_hashprice", "--out", str(tmp_path / "h.csv"), "--timezone", "Nowhere"
    )
    assert "--timezone: unknown IANA time zone 'Nowhere'" in line
    assert not (tmp_path / "h.csv").exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"time_limit_s": "60"}, "time_limit_s: expected a number of seconds, found str '60'"),
        ({"mip_rel_gap": None}, "mip_rel_gap: expected a number, found NoneType None"),
        ({"threads": True}, "threads: expected a whole number, found bool True"),
        ({"threads": 1.5}, "threads: expected a whole number, found float 1.5"),
        ({"highs_options": [("presolve", "on")]}, "highs_options: expected a mapping"),
    ],
)
def test_solve_options_of_the_wrong_type(options, message):
    with pytest.raises(ArgumentError, match=re.escape(message)):
        SolveOptions(**options)


# --- the Python API -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small() -> tuple:
    site = make_site(
        grid={"import_limit_mw": 10, "export_limit_mw": 2},
        mining=mining(fleet()),
        battery={"power_mw": 1, "energy_mwh": 2},
    )
    return site, load_inputs(site, "2023-08-17")


def test_wrong_argument_types_raise_dispatch_errors(small, tmp_path: Path):
    site, inputs = small
    calls = [
        (lambda: solve(str(HOURLY), inputs), "site: expected a Site (from load_site), found str"),
        (lambda: solve(site, inputs, {"mip_rel_gap": 0.1}), "options: expected SolveOptions (not a dict), found dict"),
        (lambda: solve(site, inputs.frame), "inputs: expected Inputs (from load_inputs), found DataFrame"),
        (lambda: solve(site, inputs, state={"battery": 1.0}), "state: expected a SiteState"),
        (lambda: load_inputs(str(HOURLY), "2023-08-17"), "site: expected a Site (from load_site), found str"),
        (lambda: load_site(site), "path: expected a site file path (str or Path), found Site"),
        (lambda: plan_tasks(str(HOURLY), "2023-01-01", "2023-01-02"), "site_files: expected a list of site file paths, found str"),
        (lambda: plan_tasks([HOURLY], "2023-01-01", "2023-01-02", prices="ercot_dam_spp"), "prices: expected a list of data set names or price files, found str"),
        (lambda: plan_tasks([HOURLY], "2023-01-01", "2023-01-02", lookahead_hours="24"), "lookahead_hours: expected a number of hours, found str"),
        (lambda: run_batch([str(HOURLY)], tmp_path / "out"), "tasks[0]: expected Task (from plan_tasks), found str"),
        (lambda: run_batch([], tmp_path / "out", workers=2.0), "workers: expected a whole number of processes, found float"),
    ]  # fmt: skip
    for call, message in calls:
        with pytest.raises(ArgumentError, match=re.escape(message)):
            call()
    assert issubclass(ArgumentError, TypeError) and issubclass(ArgumentError, InputError)
    assert not (tmp_path / "out").exists()


def test_days_and_input_sources_of_the_wrong_type_raise_argument_errors(small):
    site, _ = small
    calls = [
        (lambda: load_inputs(site, 20230817), "--start: expected a date (YYYY-MM-DD or a datetime.date), found int 20230817"),
        (lambda: load_inputs(site, None), "--start: expected a date (YYYY-MM-DD or a datetime.date), found NoneType"),
        (lambda: load_inputs(site, "2023-08-17", 5), "--end: expected a date"),
        (lambda: plan_tasks([HOURLY], 2023, "2023-01-02"), "--start: expected a date"),
        (lambda: load_inputs(site, "2023-08-17", inputs=5), "inputs: expected a folder path (str or Path), found int"),
        (lambda: load_inputs(site, "2023-08-17", prices=5), "prices: expected a data set name, a file path or a DataFrame, found int"),
        (lambda: load_inputs(site, "2023-08-17", hashprice=60.0), "hashprice: expected a file path or a DataFrame, found float"),
    ]  # fmt: skip
    for call, message in calls:
        with pytest.raises(ArgumentError, match=re.escape(message)):
            call()


def test_a_day_given_as_a_time_of_day_is_refused_not_started_there(small):
    """A horizon starting at 13:07 would run 96 quarter-hours off the market's grid, into the
    next day, priced by the hour before each: a date is a day from local midnight."""
    site, _ = small
    with pytest.raises(
        InputError, match=re.escape("--start: expected a day, found the time 2023-08-17 13:07:00")
    ):
        load_inputs(site, dt.datetime(2023, 8, 17, 13, 7))
    at_midnight = load_inputs(site, pd.Timestamp("2023-08-17"))
    assert at_midnight.index[0] == pd.Timestamp("2023-08-17", tz="America/Chicago")


def test_wrong_values_of_api_arguments_are_refused(small, tmp_path: Path):
    site, inputs = small
    with pytest.raises(
        InputError, match="fill \\(--fill\\): expected 'hold' or 'interpolate', found 'bogus'"
    ):
        load_inputs(site, "2023-08-17", fill="bogus")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="workers \\(--workers\\): expected at least 1, found 0"):
        run_batch([], tmp_path / "out", workers=0)
    result = solve(site, inputs)
    with pytest.raises(
        InputError, match="format \\(--format\\): expected csv, parquet or json, found 'xlsx'"
    ):
        result.write(tmp_path / "result", "xlsx")  # type: ignore[arg-type]
    assert not (tmp_path / "result").exists()  # nothing written as CSV under another name


def test_a_result_writes_csv_unless_told_and_names_a_wrong_folder_argument(small, tmp_path: Path):
    site, inputs = small
    result = solve(site, inputs)
    written = result.write(tmp_path / "result")  # no format given: CSV, as the CLI's default
    assert sorted(path.name for path in written) == ["kpis.json", "schedule.csv", "streams.csv"]
    with pytest.raises(ArgumentError) as error:
        result.write(5)  # type: ignore[arg-type]
    assert str(error.value) == "out_dir: expected a folder path, found int 5"


def test_a_value_json_cannot_hold_is_named_by_its_type_and_nothing_is_written(
    small, tmp_path: Path
):
    site, inputs = small
    result = solve(site, inputs)
    dated = replace(result, sources={"price_usd_per_mwh": dt.date(2023, 8, 17)})  # not a str
    with pytest.raises(TypeError) as error:
        dated.write(tmp_path / "result", "json")
    assert str(error.value) == "not JSON serializable: date"
    assert list((tmp_path / "result").iterdir()) == []  # no result.json, not even a temporary


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("price_usd_per_mwh", np.nan, "inputs: price_usd_per_mwh is NaN at 2023-08-17 03:00:00-05:00"),
        ("price_usd_per_mwh", np.inf, "inputs: price_usd_per_mwh is inf at 2023-08-17 03:00:00-05:00"),
        ("price_usd_per_mwh", -np.inf, "inputs: price_usd_per_mwh is -inf at"),
        ("price_usd_per_mwh", 1e9, "inputs: price_usd_per_mwh must lie in -5,000..20,000, found 1e\\+09"),
        ("hashprice_usd_per_ph_day", -5.0, "inputs: hashprice_usd_per_ph_day must lie in 0..100,000, found -5"),
        ("hashprice_usd_per_ph_day", 1e300, "hashprice_usd_per_ph_day must lie in 0..100,000"),
    ],
)  # fmt: skip
def test_inputs_edited_after_loading_are_refused_before_the_solver_runs(
    small, monkeypatch: pytest.MonkeyPatch, column, value, message
):
    site, _ = small
    edited = load_inputs(site, "2023-08-17")
    edited.frame.loc[edited.frame.index[3], column] = value  # the frame is an ordinary DataFrame

    def no_solver(*args, **kwargs):
        raise AssertionError("HiGHS was asked to solve inputs that should have been refused")

    monkeypatch.setattr("dispatch.solver.run_highs", no_solver)  # Pyomo's HiGHS
    monkeypatch.setattr("dispatch.fast.FastModel.solve_once", no_solver)  # the compiled path's
    with pytest.raises(InputError, match=message):
        solve(site, edited)


def test_inputs_of_another_site_are_refused(small):
    site, _ = small
    north = site.model_copy(
        update={"market": site.market.model_copy(update={"settlement_point": "HB_NORTH"})}
    )
    with pytest.raises(
        InputError,
        match=r"inputs: made for a site at HB_NORTH \(America/Chicago, 60-min intervals\), not "
        r"for 'test site' at HB_WEST",
    ):
        solve(site, load_inputs(north, "2023-08-17"))
    quarter = site.model_copy(update={"interval_minutes": 15})
    with pytest.raises(InputError, match="15-min intervals\\), not for 'test site' at HB_WEST"):
        solve(site, load_inputs(quarter, "2023-08-17"))
    solar = parse_site(
        {**site.model_dump(mode="json", exclude_none=True), "renewables": [
            {"name": "pv", "capacity_mw": 2.0, "profile": "solar"}]},
        "with solar",
    )  # fmt: skip
    inputs = load_inputs(site, "2023-08-17")
    unmarked = type(inputs)(inputs.frame, inputs.sources)  # made_for not recorded
    with pytest.raises(InputError, match=r"missing series \['solar_capacity_factor'\]"):
        solve(solar, unmarked)


def test_a_column_named_like_a_model_block_is_just_data(small):
    site, inputs = small
    frame = inputs.frame.assign(battery=7.0, balance=1.0)
    marked = type(inputs).from_frame(site, frame, inputs.sources)
    assert solve(site, marked).kpis.net_margin_usd == pytest.approx(
        solve(site, inputs).kpis.net_margin_usd, rel=1e-9
    )


# --- carried state ------------------------------------------------------------------------------


def ride_through_site():
    return make_site(
        grid={"import_limit_mw": 20, "export_limit_mw": 0},
        hpc={
            "it_load_mw": 8,
            "pue": 1.25,
            "contract": {"kind": "colocation", "usd_per_kw_month": 130},
            "ride_through_minutes": 30,
        },
        battery={"power_mw": 4, "energy_mwh": 16, "min_soc_fraction": 0.1,
                 "initial_soc_fraction": 0.5, "round_trip_efficiency": 0.81},
    )  # fmt: skip


def test_a_carried_battery_below_the_ride_through_reserve_names_that_cause():
    site = ride_through_site()
    inputs = make_inputs(site, [30.0] * 4)
    # by hand: floor = 0.1 x 16 + 10 MW x 0.5 h = 6.6 MWh; one hour at 4 MW adds 0.9 x 4 = 3.6
    assert solve(site, inputs, state=SiteState({"battery": BatteryState(3.0)})).kpis.status == (
        "optimal"
    )  # 3.0 + 3.6 = 6.6: just restorable
    with pytest.raises(
        InputError,
        match=r"state: the battery starts at 2.9 MWh, below what the first interval must hold "
        r"\(6.6 MWh: min_soc_fraction x energy_mwh plus the H2 ride-through reserve for the HPC "
        r"load\), and one interval of charging at power_mw adds at most 3.6 MWh",
    ):
        solve(site, inputs, state=SiteState({"battery": BatteryState(2.9)}))
    for soc in (math.nan, -1.0, 17.0):
        with pytest.raises(
            InputError, match=r"state: battery soc_mwh = .* is outside 0\.\.battery"
        ):
            solve(site, inputs, state=SiteState({"battery": BatteryState(soc)}))


def test_a_carried_container_count_beyond_the_fleet_is_refused():
    site = make_site(grid={"import_limit_mw": 10}, mining=mining(fleet(containers=3)))
    state = SiteState({"mining_s19": FleetState(5, (), ())})
    with pytest.raises(InputError, match=r"mining.fleets\[0\] \(s19\) carries 5 containers"):
        solve(site, make_inputs(site, [30.0] * 4, 60.0), state=state)


# --- HPC shed for lack of fuel ----------------------------------------------------------------


def flare_with_hpc(it_load_mw: float):
    data = yaml.safe_load((SITES / "flare_gas_offgrid.yaml").read_text())
    data["hpc"] = {
        "it_load_mw": it_load_mw,
        "pue": 1.25,
        "contract": {"kind": "colocation", "usd_per_kw_month": 130},
    }
    return parse_site(data, "flare with hpc")


def test_hpc_shed_for_lack_of_fuel_names_the_fuel_limits():
    site = flare_with_hpc(2.4)  # 3 MW facility = 72 MWh/day; 2 x 336 MMBtu / 10 = 67.2 MWh
    result = solve(site, load_inputs(site, "2023-08-17"))
    unserved_mwh = result.schedule["hpc_unserved_mw"].sum() * 0.25
    assert unserved_mwh == pytest.approx(72 - 67.2, abs=1e-6)
    line = hpc_shortfall(site, result.schedule)
    assert line is not None and line.startswith("HPC load unserved: 4.800 MWh")
    assert "no grid connection" in line
    for i, name in enumerate(("recip_a", "recip_b")):
        assert (
            f"generators[{i}].fuel_limit_mmbtu_per_day = 336 MMBtu ({name} burned all of it on "
            "2023-08-17)" in line
        )
    assert "capacity_mw" not in line  # 2 x 1.5 MW could carry 3 MW: capacity did not bind
    served = flare_with_hpc(2.0)  # 2.5 MW = 60 MWh/day: the gas suffices
    assert hpc_shortfall(served, solve(served, load_inputs(served, "2023-08-17")).schedule) is None


def test_run_warns_which_limit_shed_the_hpc(tmp_path: Path):
    path = tmp_path / "flare_hpc.yaml"
    data = yaml.safe_load((SITES / "flare_gas_offgrid.yaml").read_text())
    data["hpc"] = {"it_load_mw": 2.4, "pue": 1.25, "contract": {"kind": "colocation", "usd_per_kw_month": 130}}  # fmt: skip
    path.write_text(yaml.safe_dump(data))
    result = runner.invoke(app, ["run", str(path)])
    assert result.exit_code == 0, result.output
    assert "warning: HPC load unserved: 4.800 MWh" in result.output
    assert "generators[0].fuel_limit_mmbtu_per_day = 336 MMBtu" in result.output


# --- input files ----------------------------------------------------------------------------------


def test_coincident_peak_weights_out_of_range_name_the_file_and_line(tmp_path: Path):
    site = make_site(
        interval_minutes=15,
        grid={"import_limit_mw": 5, "coincident_peak": {"usd_per_mw_year": 60000}},
        mining=mining(fleet()),
    )
    quarters = pd.date_range("2023-08-17T05:00Z", periods=96, freq="15min")
    weights = [0.0] * 96
    weights[70] = 1.5  # a percentage-like slip
    path = tmp_path / "cp.csv"
    pd.DataFrame(
        {"interval_start": quarters.strftime("%Y-%m-%dT%H:%M:%SZ"), "coincident_peak_weight": weights}
    ).to_csv(path, index=False)  # fmt: skip
    with pytest.raises(
        InputError,
        match=re.escape(
            f"{path} line 72: coincident_peak_weight must lie in 0..1, found 1.5 at "
            "2023-08-17 22:30:00+00:00"
        ),
    ):
        load_inputs(site, "2023-08-17", peaks=path)


def test_an_unknown_time_zone_is_a_user_error(tmp_path: Path):
    site = make_site(grid={"import_limit_mw": 5}, mining=mining(fleet()))
    with pytest.raises(InputError, match="--timezone: unknown IANA time zone 'Not/AZone'"):
        load_inputs(site, "2023-08-17", timezone="Not/AZone")
