"""Exact delivery math on piecewise-constant rate schedules.

A program becomes a periodic ``RateProfile``: a period (one day, or one week
for weekday schedules) cut into segments of constant rate. Cumulative volume
and the moment a volume is reached are computed analytically from segment
sums, never by stepping through time. Boluses are short segments whose rate
is volume / duration, superposed on the background rate.

Absolute times are pump-clock datetimes without offset; internally they are
seconds since ``EPOCH`` (a Monday 00:00) so weekday schedules line up.
Periodic boluses run on a grid anchored at ``first_at`` on the day of the
case's ``now`` (the ``anchor``) and repeat every lcm(24 h, every interval).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from .programs import WEEKDAYS, Program, bolus_pattern_s

EPOCH = datetime(2001, 1, 1)  # a Monday
DAY_S = 86_400
WEEK_S = 7 * DAY_S
HORIZON_DAYS = 36_525  # 100 years: a moment beyond this is reported as never reached
#: Volumes closer than this (relative to the volumes involved, at least 1 mL) are the same
#: volume: float sums of round clinical numbers differ from the exact sum by ~1e-15 relative.
VOLUME_REL_TOL = 1e-11


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
        may start anywhere (taken modulo the period), run past the period end
        (they wrap) and overlap (rates add)."""
        if not pieces:
            return cls(period_s, np.array([0.0]), np.array([0.0]))
        arr = np.asarray(pieces, dtype=float).reshape(-1, 3)
        return cls.from_arrays(period_s, arr[:, 0], arr[:, 1], arr[:, 2])

    @classmethod
    def from_arrays(cls, period_s: int, start_s: np.ndarray, end_s: np.ndarray, rate: np.ndarray) -> "RateProfile":
        """``from_pieces`` on arrays (vectorised: a long bolus pattern has thousands of pieces)."""
        keep = (end_s > start_s) & (rate != 0)
        start_s, end_s, rate = start_s[keep], end_s[keep], rate[keep]
        length = np.minimum(end_s - start_s, period_s)
        a = np.mod(start_s, period_s)
        b = a + length
        wraps = b > period_s
        # a wrapping piece is [a, period) plus [0, b - period)
        pts = np.concatenate(([0.0], a, b[~wraps], np.zeros(int(wraps.sum())), b[wraps] - period_s))
        dv = np.concatenate(([0.0], rate, -rate[~wraps], rate[wraps], -rate[wraps]))
        inside = pts < period_s
        pts, dv = pts[inside], dv[inside]
        times, inverse = np.unique(pts, return_inverse=True)
        delta = np.zeros(len(times))
        np.add.at(delta, inverse, dv)
        rates = np.cumsum(delta)
        rates = np.where(np.abs(rates) < 1e-12, 0.0, rates)
        keep = np.concatenate(([True], np.diff(rates) != 0))  # merge equal neighbours
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
        or only beyond ``HORIZON_DAYS``.

        Never late: a volume reached at the end of a delivering segment is
        reached there, also when zero-rate segments follow (volumes within
        ``VOLUME_REL_TOL`` of the volumes involved count as equal, so float
        noise in the cumulative sums cannot push the moment past a gap)."""
        if volume_ml <= 0:
            return float(t0_s)
        total = self.period_volume_ml
        if total <= 0:
            return None
        period = self.period_s
        k0 = np.floor(t0_s / period)
        phase0 = t0_s - k0 * period
        # target measured from the start of period k0
        target = float(self._within(np.asarray(phase0))) + volume_ml
        eps = VOLUME_REL_TOL * max(1.0, target, total)
        whole = np.floor(target / total)
        rest = target - whole * total
        if whole * period > HORIZON_DAYS * DAY_S + period:
            return None  # a tiny period volume: reached only beyond the horizon
        # `rest` in (eps, total + eps]: a target on a period boundary is reached in the period before.
        # floor() is off by at most a unit or two in float, so a few bounded corrections suffice
        # (an unbounded loop never ends when `total` is below the float spacing of `rest`).
        for _ in range(4):
            if rest <= eps and whole > 0:
                whole -= 1
                rest += total
            elif rest > total + eps:
                whole += 1
                rest -= total
            else:
                break
        # first segment whose cumulative end reaches `rest` (within tolerance): a delivering one
        n = len(self.starts_s)
        i = min(int(np.searchsorted(self._cum_ml[1:], rest - eps, side="left")), n - 1)
        rate = self.rates_ml_per_day[i]
        seg_start = self.starts_s[i]
        seg_end = self.starts_s[i + 1] if i + 1 < n else period
        if rate > 0:
            within = seg_start + max(0.0, rest - self._cum_ml[i]) * DAY_S / rate
            within = min(within, seg_end)
        else:
            within = seg_start
        t = max(float((k0 + whole) * period + within), float(t0_s))
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


def profile_for(program: Program, anchor: datetime | None = None) -> RateProfile:
    """The exact rate profile a program delivers (without PTM boluses).

    ``anchor``: the moment the program's periodic-bolus grid is anchored to
    (the case's ``now``; its day at ``first_at`` is on the grid). Only periodic
    boluses depend on it; ``None`` anchors at EPOCH (for pattern views)."""
    mode = program.mode
    if mode == "stopped":
        return RateProfile.constant(0.0)
    if mode == "simple_continuous":
        return RateProfile.constant(program.rate_ml_per_day)
    if mode == "flex":
        if program.steps is not None:
            return _steps_profile({0: program.steps}, DAY_S)
        return _steps_profile({i: program.week[d] for i, d in enumerate(WEEKDAYS)}, WEEK_S)
    return _bolus_profile(program, anchor)


def anchor_day_s(anchor: datetime | None) -> int:
    """Seconds since EPOCH of midnight on the anchor's day (EPOCH when None)."""
    if anchor is None:
        return 0
    return (anchor.date() - EPOCH.date()).days * DAY_S


def _bolus_profile(program: Program, anchor: datetime | None) -> RateProfile:
    """Background plus every bolus of one repeat of the pattern, lcm(24 h, intervals) long."""
    period = bolus_pattern_s(program.boluses)
    day0 = anchor_day_s(anchor)
    starts, ends, rates = [np.array([0.0])], [np.array([float(period)])], [np.array([program.rate_ml_per_day])]
    for b in program.boluses:
        dur_s = b.duration_min * 60
        if b.volume_ml <= 0:
            continue
        first = (day0 + b.first_s) % b.every_s  # the grid's phase: EPOCH + first + k x every
        s = first + b.every_s * np.arange(period // b.every_s, dtype=float)
        starts.append(s)
        ends.append(s + dur_s)
        rates.append(np.full(len(s), b.volume_ml / (dur_s / DAY_S)))
    return RateProfile.from_arrays(period, np.concatenate(starts), np.concatenate(ends), np.concatenate(rates))


def calendar_day_volumes(profile: RateProfile) -> tuple[np.ndarray, np.ndarray]:
    """Start (seconds since EPOCH) and volume (mL) of each calendar day in one period
    of the profile (one day; 7 for a week schedule; lcm(24 h, intervals) / 24 h for boluses)."""
    days = max(1, profile.period_s // DAY_S)
    t = np.arange(days, dtype=float) * DAY_S
    return t, profile.volume_between(t, t + DAY_S)


def _steps_profile(days: dict[int, list], period_s: int) -> RateProfile:
    starts, rates = [], []
    for day_index, steps in sorted(days.items()):
        for s in steps:
            starts.append(day_index * DAY_S + s.start_min * 60)
            rates.append(s.rate_ml_per_day)
    return RateProfile(period_s, np.array(starts, dtype=float), np.array(rates, dtype=float))


def worst_case_profile(program: Program, anchor: datetime | None = None) -> RateProfile:
    """Programmed delivery plus every allowed PTM bolus, spread evenly over each day."""
    base = profile_for(program, anchor)
    if program.ptm is None or program.mode == "stopped":
        return base
    return base.plus_constant(program.ptm.daily_volume_ml)
