"""Validation shared by every reader, alignment choices, and the CLI around them.

Every file is cut from the bundled real series; damage is applied to real rows.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SITES, fleet, make_inputs, make_site, mining
from real_files import ercot_dam_spp, local_days
from typer.testing import CliRunner

from dispatch import InputError, load_inputs
from dispatch.cli import app
from dispatch.errors import InputWarning
from dispatch.inputs.align import align
from dispatch.inputs.bundled import bundled_price, read_dataset

runner = CliRunner()


def site(interval_minutes: int = 15, **sections):
    return make_site(
        interval_minutes=interval_minutes,
        grid={"import_limit_mw": 10},
        mining=mining(fleet()),
        **sections,
    )


def tidy_dam(path: Path, day: str = "2023-11-05", *, offset: str = "local") -> pd.DataFrame:
    """A tidy hourly price file of real HB_WEST DAM prices, timestamps in local time with
    their offsets (which change within the fall-back day) or in UTC."""
    prices = local_days(read_dataset("ercot_dam_spp")[["HB_WEST"]], day)
    times = prices.index.tz_convert("America/Chicago" if offset == "local" else "UTC")
    frame = pd.DataFrame(
        {
            "interval_start": [t.isoformat() for t in times],
            "price_usd_per_mwh": prices["HB_WEST"].to_numpy(),
        }
    )
    frame.to_csv(path, index=False)
    return frame


def test_tidy_offsets_may_change_across_the_fall_back_day(tmp_path: Path):
    frame = tidy_dam(tmp_path / "p.csv")
    assert frame.interval_start[1:3].tolist() == [
        "2023-11-05T01:00:00-05:00",
        "2023-11-05T01:00:00-06:00",
    ]
    price = load_inputs(site(60), "2023-11-05", prices=tmp_path / "p.csv").frame
    assert len(price) == 25
    assert np.array_equal(price["price_usd_per_mwh"], frame["price_usd_per_mwh"])


def test_naive_timestamps_need_a_time_zone_and_an_unambiguous_day(tmp_path: Path):
    path = tmp_path / "p.csv"
    frame = tidy_dam(path, "2023-08-17")
    frame.assign(interval_start=frame.interval_start.str.slice(0, 19)).to_csv(path, index=False)
    with pytest.raises(InputError, match=r"no UTC offset .* or pass --timezone"):
        load_inputs(site(60), "2023-08-17", prices=path)
    price = load_inputs(site(60), "2023-08-17", prices=path, timezone="America/Chicago").frame
    assert np.array_equal(price["price_usd_per_mwh"], frame["price_usd_per_mwh"])
    fall = tidy_dam(path, "2023-11-05")
    fall.assign(interval_start=fall.interval_start.str.slice(0, 19)).to_csv(path, index=False)
    with pytest.raises(
        InputError, match="line 3: 2023-11-05 01:00:00 is repeated or skipped by a DST change"
    ):
        load_inputs(site(60), "2023-11-05", prices=path, timezone="America/Chicago")


def test_offsets_on_some_rows_only_are_refused(tmp_path: Path):
    path = tmp_path / "p.csv"
    frame = tidy_dam(path, "2023-08-17")
    frame.loc[5, "interval_start"] = frame.loc[5, "interval_start"][:19]
    frame.to_csv(path, index=False)
    with pytest.raises(InputError, match="line 7: timestamp '2023-08-17T05:00:00' mixes with"):
        load_inputs(site(60), "2023-08-17", prices=path)


def test_a_coarser_user_file_needs_an_explicit_fill(tmp_path: Path):
    path = tmp_path / "p.csv"
    frame = tidy_dam(path)
    with pytest.raises(InputError) as error:
        load_inputs(site(15), "2023-11-05", prices=path)
    assert str(error.value) == (
        f"{path}: price_usd_per_mwh steps by 1 h, coarser than the site's 15 min intervals; "
        "choose how to fill them: --fill hold (repeat each value) or --fill interpolate (linear "
        "between interval midpoints)"
    )
    held = load_inputs(site(15), "2023-11-05", prices=path, fill="hold").frame["price_usd_per_mwh"]
    assert len(held) == 100
    assert np.array_equal(held.to_numpy(), np.repeat(frame.price_usd_per_mwh.to_numpy(), 4))


def test_a_horizon_of_one_interval_takes_its_length_from_its_frequency():
    # one quarter-hour (a horizon's own freq gives its length when there is no second start):
    # the hourly DAM price of 14:00 held over 14:15-14:30
    dam = read_dataset("ercot_dam_spp")["HB_WEST"]
    horizon = pd.date_range("2023-08-17 14:15", periods=1, freq="15min", tz="America/Chicago")
    held = align(dam, pd.Timedelta("1h"), horizon, name="p", source="dam", fill="hold")
    assert held.tolist() == [dam[pd.Timestamp("2023-08-17 14:00", tz="America/Chicago")]]


def test_interpolation_runs_between_hourly_midpoints(tmp_path: Path):
    path = tmp_path / "p.csv"
    hourly = tidy_dam(path)["price_usd_per_mwh"].to_numpy()
    price = load_inputs(site(15), "2023-11-05", prices=path, fill="interpolate").frame
    values = price["price_usd_per_mwh"].to_numpy()
    # quarter k of hour h has its midpoint at h + (2k + 1)/8; hour means sit at h + 1/2
    assert values[2] == pytest.approx(hourly[0] + (hourly[1] - hourly[0]) * (5 / 8 - 1 / 2))
    assert values[0] == hourly[0]  # before the first midpoint: held
    assert values[-1] == hourly[-1]  # after the last midpoint: held


def test_bundled_data_keeps_its_hold_default():
    price = load_inputs(site(15), "2023-11-05", prices="ercot_dam_spp").frame["price_usd_per_mwh"]
    dam = bundled_price("ercot_dam_spp", "HB_WEST")
    assert np.array_equal(price.to_numpy()[::4], dam[price.index[::4].tz_convert("UTC")].to_numpy())
    assert np.array_equal(price.to_numpy()[1::4], price.to_numpy()[::4])


def test_mixed_intervals_are_refused(tmp_path: Path):
    path = tmp_path / "p.csv"
    start = pd.Timestamp("2023-08-17", tz="America/Chicago")
    rtm = bundled_price("ercot_rtm_spp", "HB_WEST")[start : start + pd.Timedelta("26h")]
    mixed = pd.concat([rtm.iloc[:40], rtm.iloc[40:].iloc[::4]])  # quarter-hours, then hourly
    pd.DataFrame(
        {"interval_start": [t.isoformat() for t in mixed.index], "price_usd_per_mwh": mixed}
    ).to_csv(path, index=False)
    with pytest.raises(InputError, match="line 43: gap in price_usd_per_mwh"):
        load_inputs(site(15), "2023-08-17", prices=path)
    hourly_first = pd.concat([rtm.iloc[:80:4], rtm.iloc[80:88]])  # 20 hours, then 8 quarters
    pd.DataFrame(
        {
            "interval_start": [t.isoformat() for t in hourly_first.index],
            "price_usd_per_mwh": hourly_first,
        }
    ).to_csv(path, index=False)
    with pytest.raises(
        InputError,
        match=r"line 23: mixed interval in price_usd_per_mwh: .* is 0 days 00:15:00, the series steps by 0 days 01:00:00",
    ):
        load_inputs(site(15), "2023-08-17", prices=path)


def test_every_series_must_cover_the_horizon(tmp_path: Path):
    prices = tmp_path / "p.csv"
    tidy_dam(prices, "2023-08-17")
    profiles = tmp_path / "profiles.csv"
    solar = local_days(read_dataset("ercot_wind_solar")[["solar_cf"]], "2023-08-17")
    pd.DataFrame(
        {
            "interval_start": [t.isoformat() for t in solar.index[:20]],
            "solar_capacity_factor": solar["solar_cf"].to_numpy()[:20],
        }
    ).to_csv(profiles, index=False)
    with_pv = site(60, renewables=[{"name": "pv", "capacity_mw": 5, "profile": "solar"}])
    with pytest.raises(
        InputError, match=r"profiles.csv: solar_capacity_factor covers .* the horizon needs"
    ):
        load_inputs(with_pv, "2023-08-17", prices=prices, profiles=profiles)


def test_capacity_factor_in_percent_is_refused_with_a_hint(tmp_path: Path):
    profiles = tmp_path / "profiles.csv"
    solar = local_days(read_dataset("ercot_wind_solar")[["solar_cf"]], "2023-08-17")
    pd.DataFrame(
        {
            "interval_start": [t.isoformat() for t in solar.index],
            "solar_capacity_factor": 100 * solar["solar_cf"].to_numpy(),
        }
    ).to_csv(profiles, index=False)
    with_pv = site(60, renewables=[{"name": "pv", "capacity_mw": 5, "profile": "solar"}])
    with pytest.raises(
        InputError,
        match=r"line 9: solar_capacity_factor must lie in 0..1, found 7.3717 at .* \(it looks like a percentage: divide by 100\)",
    ):
        load_inputs(with_pv, "2023-08-17", profiles=profiles)


@pytest.mark.parametrize(("peak", "refused"), [(1.0, False), (1.3, True)])
def test_a_capacity_factor_above_1_is_refused_and_1_is_not(tmp_path: Path, peak, refused):
    # a profile whose best hour reads 1.3 (a unit slip, or MW instead of a fraction)
    profiles = tmp_path / "profiles.csv"
    solar = local_days(read_dataset("ercot_wind_solar")[["solar_cf"]], "2023-08-17")
    factors = solar["solar_cf"].to_numpy() / solar["solar_cf"].max() * peak
    pd.DataFrame(
        {"interval_start": [t.isoformat() for t in solar.index], "solar_capacity_factor": factors}
    ).to_csv(profiles, index=False)
    with_pv = site(60, renewables=[{"name": "pv", "capacity_mw": 5, "profile": "solar"}])
    if not refused:
        assert load_inputs(with_pv, "2023-08-17", profiles=profiles).frame[
            "solar_capacity_factor"
        ].max() == pytest.approx(1.0)
        return
    # the reader names the file and line (the frame check behind it would not)
    message = r"profiles.csv line 11: solar_capacity_factor must lie in 0..1, found 1.15"
    with pytest.raises(InputError, match=message) as e:
        load_inputs(with_pv, "2023-08-17", profiles=profiles)
    assert "percentage" not in str(e.value)  # 1.3 is not 130 %: no advice to divide by 100


@pytest.mark.parametrize("column", ["solar_capacity_factor", "hpc_utilization_fraction"])
def test_a_fraction_above_1_in_an_inputs_frame_is_refused(column):
    # the API path: a DataFrame straight into Inputs, no file reader in between
    with_pv = site(
        60,
        renewables=[{"name": "pv", "capacity_mw": 5, "profile": "solar"}],
        hpc={"it_load_mw": 1, "contract": {"kind": "colocation", "usd_per_kw_month": 100}},
    )
    columns = {"solar_capacity_factor": [0.5, 0.5], "hpc_utilization_fraction": [1.0, 1.0]}
    columns[column] = [1.0, 1.3]
    with pytest.raises(InputError, match=rf"inputs: {column} must lie in 0..1, found 1.3 at"):
        make_inputs(with_pv, [20.0, 20.0], 40.0, **columns)


@pytest.mark.parametrize(
    ("scale", "shift", "message"),
    [
        (
            1000,
            0,
            "line 2: price_usd_per_mwh = 22,680.00 .* outside the plausible range -5,000..20,000 USD/MWh",
        ),
        (1, -10_000, "line 2: price_usd_per_mwh = -9,977.32 .* outside the plausible range"),
    ],
    ids=["usd-per-gwh", "sentinel"],
)
def test_implausible_prices_are_refused(tmp_path: Path, scale, shift, message):
    path = tmp_path / "p.csv"
    frame = tidy_dam(path)
    frame.assign(price_usd_per_mwh=frame.price_usd_per_mwh * scale + shift).to_csv(
        path, index=False
    )
    with pytest.raises(InputError, match=message):
        load_inputs(site(60), "2023-11-05", prices=path)


def test_an_implausible_price_deep_in_a_file_names_its_own_line(tmp_path: Path):
    path = tmp_path / "p.csv"
    frame = tidy_dam(path)  # 2023-11-05 from 00:00 CDT (05:00 UTC), hourly
    frame.loc[7, "price_usd_per_mwh"] = -9999.0  # a missing-value sentinel in the 8th row
    frame.to_csv(path, index=False)
    with pytest.raises(InputError) as error:
        load_inputs(site(60), "2023-11-05", prices=path)
    assert str(error.value) == (
        f"{path} line 9: price_usd_per_mwh = -9,999.00 at 2023-11-05 12:00:00+00:00 is outside "
        "the plausible range -5,000..20,000 USD/MWh; check the unit (USD/MWh expected) and "
        "missing-value markers"
    )


@pytest.mark.parametrize("bound", [-5_000.0, 20_000.0])
def test_a_price_exactly_at_a_plausibility_bound_is_kept(tmp_path: Path, bound: float):
    # docs/decisions.md: prices are refused *outside* -5,000...20,000 USD/MWh, so each bound
    # itself is a price (20,000 is above the 5,000 cap in force: warned about, kept as given)
    path = tmp_path / "p.csv"
    frame = tidy_dam(path)
    frame.loc[7, "price_usd_per_mwh"] = bound
    frame.to_csv(path, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        price = load_inputs(site(60), "2023-11-05", prices=path).frame["price_usd_per_mwh"]
    assert price.iloc[7] == bound
    assert np.array_equal(price, frame["price_usd_per_mwh"])


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("time", "row 4: missing or unreadable timestamp"),
        ("price", "row 5: price_usd_per_mwh is missing (NaN) at 2023-11-05 09:00:00+00:00"),
    ],
)
def test_a_bad_row_of_a_parquet_file_is_named_by_its_row(tmp_path: Path, damage, message):
    # Parquet has no text lines: rows count from 1 in file order
    frame = tidy_dam(tmp_path / "p.csv")  # 2023-11-05 from 05:00 UTC, hourly
    frame["interval_start"] = pd.to_datetime(frame["interval_start"], utc=True)
    if damage == "time":
        frame.loc[3, "interval_start"] = pd.NaT  # a null in a timestamp column
    else:
        frame.loc[4, "price_usd_per_mwh"] = np.nan
    path = tmp_path / "p.parquet"
    frame.to_parquet(path, index=False)
    with pytest.raises(InputError) as error:
        load_inputs(site(60), "2023-11-05", prices=path)
    assert str(error.value) == f"{path} {message}"


def test_prices_above_the_2021_cap_warn_against_the_cap_then(tmp_path: Path):
    path = tmp_path / "p.csv"
    frame = tidy_dam(path, "2021-02-17")  # Winter Storm Uri: HB_WEST DAM at 9,000.01 USD/MWh
    with pytest.warns(
        InputWarning,
        match=r"line 2: price_usd_per_mwh = 9,000.01 at 2021-02-17 06:00:00\+00:00 is above the ERCOT offer cap then in force \(9,000 USD/MWh\); 3 value",
    ):
        price = load_inputs(site(60), "2021-02-17", prices=path).frame["price_usd_per_mwh"]
    assert np.array_equal(price, frame.price_usd_per_mwh)  # kept as given


def test_cli_reads_an_ercot_report_on_the_fall_back_day(tmp_path: Path):
    prices = tmp_path / "dam.csv"
    ercot_dam_spp("2023-11-05", header="mis").to_csv(prices, index=False)
    args = [
        "run",
        str(SITES / "west_texas_hybrid.yaml"),
        "--day",
        "2023-11-05",
        "--prices",
        str(prices),
    ]
    # a day-ahead price settles its whole hour, so it is held over the quarter-hours unasked
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    schedule = pd.read_csv(tmp_path / "out" / "schedule.csv")
    assert len(schedule) == 100  # the 25-hour day in quarter-hours
    dam = ercot_dam_spp("2023-11-05", points=("HB_WEST",))["Settlement Point Price"]
    assert np.array_equal(schedule["price_usd_per_mwh"], np.repeat(dam.to_numpy(), 4))
    output = " ".join(result.output.split())
    assert "dam.csv (ERCOT DAM settlement point prices, day-ahead)" in output


def test_cli_prints_data_warnings(tmp_path: Path):
    prices = tmp_path / "p.csv"
    tidy_dam(prices, "2021-02-17")
    site_file = tmp_path / "site.yaml"
    site_file.write_text(
        (SITES / "hpc_only.yaml")  # no ancillary offers: Uri predates the bundled AS prices
        .read_text()
        .replace("interval_minutes: 15", "interval_minutes: 60")
    )
    result = runner.invoke(
        app, ["run", str(site_file), "--day", "2021-02-17", "--prices", str(prices)]
    )
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert (
        "warning: " in output
        and "above the ERCOT offer cap then in force (9,000 USD/MWh)" in output
    )
