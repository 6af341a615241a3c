"""Real price files in the layouts users bring, cut from the bundled series (never invented).

Each helper takes real values from dispatch/data (ERCOT DAM and RTM SPP, DAM ancillary MCPC) for
the local days asked and lays them out as ERCOT's reports or gridstatus frames lay them out:
hour-ending Central Prevailing Time with the repeated-hour flag, or tz-aware interval starts.
The layout code here goes from UTC to labels, the readers under test go back; the tests compare
with UTC timestamps written out by hand.
"""

from __future__ import annotations

import pandas as pd

from dispatch.inputs.bundled import read_dataset

CPT = "America/Chicago"


def local_days(frame: pd.DataFrame, first: str, last: str | None = None) -> pd.DataFrame:
    """Rows of a bundled frame (UTC index) whose local CPT day is within first..last."""
    start = pd.Timestamp(first, tz=CPT)
    stop = (pd.Timestamp(last or first) + pd.Timedelta(days=1)).tz_localize(CPT)
    return frame[(frame.index >= start) & (frame.index < stop)]


def _hour_ending(local: pd.DatetimeIndex) -> pd.DataFrame:
    """ERCOT labels of local interval starts: delivery date, hour ending, repeated flag."""
    labels = pd.DataFrame(
        {
            "date": local.strftime("%m/%d/%Y"),
            "hour": local.hour + 1,
            "interval": local.minute // 15 + 1,
        }
    )
    labels["repeated"] = labels.duplicated(["date", "hour", "interval"]).map(
        {True: "Y", False: "N"}
    )
    return labels


def ercot_dam_spp(
    first: str,
    last: str | None = None,
    points: tuple[str, ...] = ("HB_WEST", "HB_NORTH", "LZ_WEST"),
    *,
    header: str = "historical",
) -> pd.DataFrame:
    """DAM SPP report rows (one per hour and point), ``historical`` (NP4-180-ER workbook) or
    ``mis`` (NP4-190-CD CSV) headers."""
    prices = local_days(read_dataset("ercot_dam_spp")[list(points)], first, last)
    labels = _hour_ending(prices.index.tz_convert(CPT))
    rows = []
    for i in range(len(prices)):
        for point in points:
            rows.append(
                {
                    "date": labels["date"].iloc[i],
                    "hour": f"{labels['hour'].iloc[i]:02d}:00",
                    "flag": labels["repeated"].iloc[i],
                    "point": point,
                    "price": prices[point].iloc[i],
                }
            )
    frame = pd.DataFrame(rows)
    if header == "historical":
        names = [
            "Delivery Date",
            "Hour Ending",
            "Repeated Hour Flag",
            "Settlement Point",
            "Settlement Point Price",
        ]
        return frame.set_axis(names, axis=1)
    names = ["DeliveryDate", "HourEnding", "DSTFlag", "SettlementPoint", "SettlementPointPrice"]
    return frame.set_axis(names, axis=1)[
        ["DeliveryDate", "HourEnding", "SettlementPoint", "SettlementPointPrice", "DSTFlag"]
    ]


def ercot_rtm_spp(first: str, points: tuple[str, ...] = ("HB_WEST", "HB_HUBAVG")) -> pd.DataFrame:
    """RTM 15-minute SPP report rows (NP6-905-CD layout) for one local day."""
    prices = local_days(read_dataset("ercot_rtm_spp")[list(points)], first)
    labels = _hour_ending(prices.index.tz_convert(CPT))
    rows = []
    for i in range(len(prices)):
        for point in points:
            rows.append(
                {
                    "DeliveryDate": labels["date"].iloc[i],
                    "DeliveryHour": int(labels["hour"].iloc[i]),
                    "DeliveryInterval": int(labels["interval"].iloc[i]),
                    "SettlementPointName": point,
                    "SettlementPointType": "AH" if point == "HB_HUBAVG" else "HU",
                    "SettlementPointPrice": prices[point].iloc[i],
                    "DSTFlag": labels["repeated"].iloc[i],
                }
            )
    return pd.DataFrame(rows)


def ercot_mcpc(first: str, *, wide: bool = False) -> pd.DataFrame:
    """DAM ancillary clearing prices: NP4-188-CD long rows, or the NP4-181-ER wide layout."""
    prices = local_days(read_dataset("ercot_dam_as"), first)
    labels = _hour_ending(prices.index.tz_convert(CPT))
    if wide:
        return pd.DataFrame(
            {
                "Delivery Date": labels["date"],
                "Hour Ending": [f"{h:02d}:00" for h in labels["hour"]],
                "Repeated Hour Flag": labels["repeated"],
                **{p: prices[p].to_numpy() for p in ("REGDN", "REGUP", "RRS", "NSPIN", "ECRS")},
            }
        )
    rows = []
    for i in range(len(prices)):
        for product in ("REGDN", "REGUP", "RRS", "NSPIN", "ECRS"):
            rows.append(
                {
                    "DeliveryDate": labels["date"].iloc[i],
                    "HourEnding": f"{labels['hour'].iloc[i]:02d}:00",
                    "AncillaryType": product,
                    "MCPC": prices[product].iloc[i],
                    "DSTFlag": labels["repeated"].iloc[i],
                }
            )
    return pd.DataFrame(rows)


def gridstatus_spp(
    first: str,
    points: tuple[str, ...] = ("HB_WEST", "HB_NORTH"),
    *,
    dataset: str = "ercot_dam_spp",
    api: bool = False,
    lmp: bool = False,
) -> pd.DataFrame:
    """A gridstatus long frame of real ERCOT prices: the library's display names with tz-aware
    US/Central times, or (``api``) the hosted API's snake_case names with UTC times.

    With ``lmp`` the price sits in ``LMP``; its Energy/Congestion/Loss components are not in the
    bundled data, so those columns are left empty rather than made up.
    """
    prices = local_days(read_dataset(dataset)[list(points)], first)
    step = pd.Timedelta("1h") if dataset == "ercot_dam_spp" else pd.Timedelta("15min")
    market = "DAY_AHEAD_HOURLY" if dataset == "ercot_dam_spp" else "REAL_TIME_15_MIN"
    long = (
        prices.rename_axis("start")
        .reset_index()
        .melt(id_vars="start", var_name="location", value_name="price")
    )
    long = long.sort_values(["start", "location"], kind="stable").reset_index(drop=True)
    start = long["start"].dt.tz_convert("US/Central")
    value = "lmp" if lmp else "spp"
    if api:
        frame = pd.DataFrame(
            {
                "interval_start_utc": long["start"].dt.tz_convert("UTC"),
                "interval_end_utc": (long["start"] + step).dt.tz_convert("UTC"),
                "location": long["location"],
                "location_type": "Trading Hub",
                "market": market,
                value: long["price"],
            }
        )
        components = ["energy", "congestion", "loss"]
    else:
        frame = pd.DataFrame(
            {
                "Time": start,
                "Interval Start": start,
                "Interval End": start + step,
                "Location": long["location"],
                "Location Type": "Trading Hub",
                "Market": market,
                value.upper(): long["price"],
            }
        )
        components = ["Energy", "Congestion", "Loss"]
    if lmp:
        for column in components:
            frame[column] = float("nan")
    return frame


AS_LONG_NAMES = {
    "NSPIN": "Non-Spinning Reserves",
    "REGDN": "Regulation Down",
    "REGUP": "Regulation Up",
    "RRS": "Responsive Reserves",
    "ECRS": "ERCOT Contingency Reserve Service",
}


def gridstatus_as_prices(first: str) -> pd.DataFrame:
    """Real ERCOT DAM ancillary clearing prices in ``Ercot().get_as_prices`` layout: ``Time,
    Interval Start, Interval End, Market`` ("DAM") and one column per product under its long
    name, tz-aware US/Central; a product not yet launched is empty (ECRS before 2023-06-10)."""
    prices = local_days(read_dataset("ercot_dam_as"), first)
    start = prices.index.tz_convert("US/Central")
    frame = pd.DataFrame(
        {
            "Time": start,
            "Interval Start": start,
            "Interval End": start + pd.Timedelta("1h"),
            "Market": "DAM",
        }
    )
    for product, name in AS_LONG_NAMES.items():
        frame[name] = prices[product].to_numpy()
    return frame
