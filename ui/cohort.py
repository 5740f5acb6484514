"""Analyst cohort explorer: data source and filter widgets, cached queries, exports.

The DuckDB database over a set of telemetry folders is shared by every session
(``st.cache_resource``), but each query runs on its own cursor (DuckDB
connections are not thread-safe). Query results are cached by view name,
filters, folders and the folders' modification time (``st.cache_data``); only
aggregated results ever reach the page.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from pumpmodel import cohort_queries as cq
from pumpmodel.figures.cohort import friendly, pretty
from ui.charts import chart as _chart
from ui.safe_text import code, md

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Selection:
    folders: tuple[str, ...]
    version: tuple[float, ...]
    filters: cq.Filters


def _rel(p: Path) -> str:
    try:
        return str(p.relative_to(ROOT))
    except ValueError:
        return str(p)


def _versions(folders: tuple[str, ...]) -> tuple[float, ...]:
    return tuple(cq.Source(Path(f)).version for f in folders)


@st.cache_resource(max_entries=4, show_spinner="Opening the telemetry (building the per-pump-day rollup) ...")
def _engine(folders: tuple[str, ...], version: tuple[float, ...]) -> cq.Cohort:
    return cq.Cohort([Path(f) for f in folders])


@st.cache_data(max_entries=16, show_spinner=False)
def _options(folders: tuple[str, ...], version: tuple[float, ...]) -> dict:
    return _engine(folders, version).filter_options()


@st.cache_data(max_entries=512, show_spinner=False)
def run_view(view: str, sel: Selection) -> pd.DataFrame:
    """One view's result, cached by view, filters, folders and data version."""
    return _engine(sel.folders, sel.version).run(view, sel.filters)


def source_picker() -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """Cohort folder and population (story / cohort); returns (folders to query, populations)."""
    cohorts = cq.discover_cohorts(ROOT)
    story = cq.story_folder(ROOT)
    if not cohorts and story is None:
        st.info("No telemetry found: the shipped cohort lives in `sample_data/cohort`; generate a larger one "
                "with `make cohort`.")
        return None
    c1, c2 = st.columns([2, 1])
    labels = {_rel(p): p for p in cohorts}
    choice = c1.selectbox("Cohort data folder", list(labels) or ["(none)"], key="folder", bind="query-params",
                          help="The shipped cohort, or a larger one generated into data/cohort-* "
                               "(e.g. `make cohort`: 1000 pumps x 730 days).")
    pops = (["cohort"] if labels else []) + (["story"] if story is not None else [])
    chosen = c2.multiselect("Population (story / cohort)", pops, default=pops, key="population", bind="query-params",
                            help="Story patients (sample_data/story) are the trainers' hand-made cases; "
                                 "cohort pumps are random simulated pumps.")
    folders = []
    if "cohort" in chosen and choice in labels:
        folders.append(str(labels[choice]))
    if "story" in chosen and story is not None:
        folders.append(str(story))
    if not folders:
        st.info("Choose at least one population.")
        return None
    return tuple(folders), tuple(sorted(chosen))


def filter_widgets(folders: tuple[str, ...], populations: tuple[str, ...]) -> Selection:
    version = _versions(folders)
    try:
        opts = _options(folders, version)
    except cq.CohortError as exc:  # the folder cannot be used at all: one clear message
        st.error(md(exc), icon=":material/error:")
        st.stop()
    skipped = _engine(folders, version).skipped
    if skipped:  # corrupt partitions: named, left out, the rest of the cohort stays usable
        st.warning(f"{len(skipped)} partition file(s) could not be read and are left out of every figure: "
                   + "; ".join(f"{code(_rel(p))} ({md(why, 120)})" for p, why in skipped[:10])
                   + (" ..." if len(skipped) > 10 else ""), icon=":material/warning:")
    if opts.get("dates_outside_pump_clock"):  # e.g. a corrupt partition read as year 15795
        st.warning("Some timestamps fall outside 1900-2199 (pump clock): probably a corrupt partition file. "
                   "The date-range filter is not offered for this selection of folders.", icon=":material/warning:")
    c = st.columns(4)
    drugs = c[0].multiselect("Drug", opts["drug"], key="drug", bind="query-params", placeholder="all drugs",
                             help="The first drug of the pump's most recent program.")
    profiles = c[1].multiselect("Pump profile", opts["profile"], key="profile", bind="query-params",
                                placeholder="all profiles")
    indications = c[2].multiselect("Indication", opts["indication"], key="indication", bind="query-params",
                                   placeholder="all indications", format_func=lambda s: s.replace("_", " "))
    alarms = c[3].multiselect("Alarms seen", opts["alarm"], key="alarm", bind="query-params",
                              placeholder="any (no filter)",
                              format_func=pretty, help="Keep pumps that raised at least one of these alarms "
                                                       "in the date range.")
    date_from = date_to = None
    if opts["dates"]:
        lo, hi = opts["dates"]
        picked = st.date_input("Date range (pump clock)", value=(lo, hi), min_value=lo, max_value=hi,
                               key="dates", bind="query-params")
        if isinstance(picked, (tuple, list)) and len(picked) == 2:
            date_from, date_to = picked
        if (date_from, date_to) == (lo, hi):
            date_from = date_to = None  # whole record: same cache entry as no filter
    f = cq.Filters(drugs=tuple(drugs), profiles=tuple(profiles), indications=tuple(indications),
                   groups=populations, alarms=tuple(alarms),
                   date_from=date_from, date_to=date_to)
    return Selection(folders, version, f)


def download(df: pd.DataFrame, name: str, label: str = "CSV") -> None:
    """The view's data with friendly column names and rounded values (``friendly``)."""
    st.download_button(f"{label}: {name.replace('-', ' ')}", friendly(df).to_csv(index=False).encode("utf-8"),
                       file_name=f"cohort-{name}.csv", mime="text/csv", key=f"cohort_dl_{name}",
                       icon=":material/download:", on_click="ignore")


def chart(fig, key: str, data: pd.DataFrame | None = None, name: str | None = None) -> None:
    """The chart with its data (friendly names, rounded) as the CSV beside it."""
    csv = None if data is None else friendly(data).to_csv(index=False).encode("utf-8")
    _chart(fig, key=key, csv=csv, name=name)
