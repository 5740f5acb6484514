"""Exact delivery math on piecewise-constant rate schedules.

A program becomes a periodic ``RateProfile``: a period (one day, or one week
for weekday schedules) cut into segments of constant rate. Cumulative volume
and the moment a volume is reached are computed analytically from segment
sums, never by stepping through time. Boluses are short segments whose rate
is volume / duration, superposed on the background rate.

Absolute times are pump-clock datetimes without offset; internally they are
seconds since ``EPOCH`` (a Monday 00:00) so weekday schedules line up.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from .programs import WEEKDAYS, Program

EPOCH = datetime(2001, 1, 1)  # a Monday
DAY_S = 86_400
WEEK_S = 7 * DAY_S
HORIZON_DAYS = 36_525  # 100 years: a moment beyond this is reported as never reached


def to_seconds(t: datetime) -> float:
    """Seconds since EPOCH (exact to the microsecond)."""
    d = t - EPOCH
    return d.days * DAY_S + d.seconds + d.microseconds / 1e6


def from_seconds(s: float) -> datetime:
    """Datetime for seconds since EPOCH, floored to the whole second.

    Flooring (after a 1 microsecond allowance for float error) never reports a
    threshold moment later than it is."""
    return EPOCH + timedelta(seconds=int(np.floor(s + 1e-6)))


@dataclass(frozen=True)
class RateProfile:
    """Periodic piecewise-constant rate: ``rates_ml_per_day[i]`` on
    ``[starts_s[i], starts_s[i+1])`` within each period (``starts_s[0] == 0``)."""

    period_s: int
    starts_s: np.ndarray
    rates_ml_per_day: np.ndarray

    def __post_init__(self) -> None:
        ends = np.append(self.starts_s[1:], self.period_s)
        seg_ml = self.rates_ml_per_day * (ends - self.starts_s) / DAY_S
        object.__setattr__(self, "_cum_ml", np.concatenate(([0.0], np.cumsum(seg_ml))))

    # -- construction -------------------------------------------------
    @classmethod
    def from_pieces(cls, period_s: int, pieces: list[tuple[float, float, float]]) -> "RateProfile":
        """Superpose ``(start_s, end_s, rate)`` pieces on one period; pieces
        may run past the period end (they wrap) and may overlap (rates add)."""
        deltas: dict[float, float] = {0.0: 0.0}
        for start, end, rate in pieces:
            if end <= start or rate == 0:
                continue
            length = min(end - start, period_s)
            start %= period_s
            spans = [(start, min(start + length, period_s))]
            if start + length > period_s:
                spans.append((0.0, start + length - period_s))
            for a, b in spans:
                deltas[a] = deltas.get(a, 0.0) + rate
                if b < period_s:
                    deltas[b] = deltas.get(b, 0.0) - rate
        times = np.array(sorted(deltas), dtype=float)
        rates = np.cumsum([deltas[t] for t in times])
        rates = np.where(np.abs(rates) < 1e-12, 0.0, rates)
        # merge equal neighbours
        keep = np.concatenate(([True], np.diff(rates) != 0))
        return cls(period_s, times[keep], rates[keep])

    @classmethod
    def constant(cls, rate_ml_per_day: float) -> "RateProfile":
        return cls(DAY_S, np.array([0.0]), np.array([float(rate_ml_per_day)]))

    def plus_constant(self, rate_ml_per_day: float) -> "RateProfile":
        """This profile with a constant rate added (e.g. PTM boluses spread over the day)."""
        return RateProfile(self.period_s, self.starts_s, self.rates_ml_per_day + rate_ml_per_day)

    # -- queries -------------------------------------------------------
    @property
    def period_volume_ml(self) -> float:
        return float(self._cum_ml[-1])

    @property
    def daily_volume_ml(self) -> float:
        """Mean volume per day (over the week for weekday schedules)."""
        return self.period_volume_ml * DAY_S / self.period_s

    def _within(self, phase_s: np.ndarray) -> np.ndarray:
        """Volume delivered from the period start to ``phase_s`` (0 <= phase < period)."""
        idx = np.searchsorted(self.starts_s, phase_s, side="right") - 1
        return self._cum_ml[idx] + self.rates_ml_per_day[idx] * (phase_s - self.starts_s[idx]) / DAY_S

    def volume_between(self, t0_s: np.ndarray | float, t1_s: np.ndarray | float) -> np.ndarray:
        """Volume delivered on ``[t0_s, t1_s]`` (vectorised, exact)."""
        t0 = np.asarray(t0_s, dtype=float)
        t1 = np.asarray(t1_s, dtype=float)
        k0 = np.floor(t0 / self.period_s)
        k1 = np.floor(t1 / self.period_s)
        return (k1 - k0) * self.period_volume_ml + self._within(t1 - k1 * self.period_s) - self._within(
            t0 - k0 * self.period_s
        )

    def time_to_deliver(self, t0_s: float, volume_ml: float) -> float | None:
        """Earliest time (seconds since EPOCH) at which ``volume_ml`` has been
        delivered since ``t0_s``; ``None`` if it never is (nothing delivered)
        or only beyond ``HORIZON_DAYS``."""
        if volume_ml <= 0:
            return float(t0_s)
        total = self.period_volume_ml
        if total <= 0:
            return None
        k0 = np.floor(t0_s / self.period_s)
        phase0 = t0_s - k0 * self.period_s
        # target measured from the start of period k0
        target = float(self._within(np.asarray(phase0))) + volume_ml
        whole = np.floor(target / total)
        rest = target - whole * total
        if rest <= 0 and whole > 0:  # lands exactly on a period boundary: find it inside the previous period
            whole -= 1
            rest = total
        # first segment whose cumulative end reaches `rest`
        i = int(np.searchsorted(self._cum_ml[1:], rest - 1e-15, side="left"))
        i = min(i, len(self.starts_s) - 1)
        rate = self.rates_ml_per_day[i]
        within = self.starts_s[i] + (rest - self._cum_ml[i]) * DAY_S / rate if rate > 0 else self.starts_s[i]
        t = float((k0 + whole) * self.period_s + within)
        if not np.isfinite(t) or t - t0_s > HORIZON_DAYS * DAY_S:
            return None
        return t

    def rate_at(self, t_s: np.ndarray | float) -> np.ndarray:
        t = np.asarray(t_s, dtype=float)
        phase = t - np.floor(t / self.period_s) * self.period_s
        return self.rates_ml_per_day[np.searchsorted(self.starts_s, phase, side="right") - 1]

    def breakpoints_between(self, t0_s: float, t1_s: float) -> np.ndarray:
        """Absolute segment starts in ``(t0_s, t1_s)``, for step plots."""
        k0 = int(np.floor(t0_s / self.period_s))
        k1 = int(np.floor(t1_s / self.period_s))
        ks = np.arange(k0, k1 + 1)[:, None] * self.period_s
        pts = (ks + self.starts_s[None, :]).ravel()
        return pts[(pts > t0_s) & (pts < t1_s)]


def profile_for(program: Program) -> RateProfile:
    """The exact rate profile a program delivers (without PTM boluses)."""
    mode = program.mode
    if mode == "stopped":
        return RateProfile.constant(0.0)
    if mode == "simple_continuous":
        return RateProfile.constant(program.rate_ml_per_day)
    if mode == "flex":
        if program.steps is not None:
            return _steps_profile({0: program.steps}, DAY_S)
        return _steps_profile({i: program.week[d] for i, d in enumerate(WEEKDAYS)}, WEEK_S)
    # periodic bolus: background plus bolus segments, repeated each day
    pieces = [(0.0, float(DAY_S), program.rate_ml_per_day)]
    for b in program.boluses or []:
        dur_s = b.duration_min * 60
        rate = b.volume_ml / (dur_s / DAY_S)
        pieces += [(m * 60, m * 60 + dur_s, rate) for m in b.starts_min()]
    return RateProfile.from_pieces(DAY_S, pieces)


def _steps_profile(days: dict[int, list], period_s: int) -> RateProfile:
    starts, rates = [], []
    for day_index, steps in sorted(days.items()):
        for s in steps:
            starts.append(day_index * DAY_S + s.start_min * 60)
            rates.append(s.rate_ml_per_day)
    return RateProfile(period_s, np.array(starts, dtype=float), np.array(rates, dtype=float))


def worst_case_profile(program: Program) -> RateProfile:
    """Programmed delivery plus every allowed PTM bolus, spread evenly over each day."""
    base = profile_for(program)
    if program.ptm is None or program.mode == "stopped":
        return base
    return base.plus_constant(program.ptm.daily_volume_ml)
