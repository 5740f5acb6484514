"""One look for every chart: Okabe-Ito colour-blind-safe palette, readable
fonts, axis titles with units, margins that do not clip labels."""
from __future__ import annotations

import plotly.graph_objects as go

# Okabe & Ito (2008), safe for the common colour-vision deficiencies.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}
PALETTE = [OKABE_ITO[k] for k in ("blue", "orange", "green", "vermillion", "purple", "sky_blue", "yellow", "black")]
SEVERITY_COLOURS = {"critical": OKABE_ITO["vermillion"], "non_critical": OKABE_ITO["orange"],
                    "info": OKABE_ITO["blue"], "hard": OKABE_ITO["vermillion"], "soft": OKABE_ITO["orange"]}
CURRENT_COLOUR = OKABE_ITO["sky_blue"]
PROPOSED_COLOUR = OKABE_ITO["blue"]


TOOLBAR_PX = 40  # height kept free for the chart toolbar above a title (32 px in presentation mode)
TITLE_MARGIN_PX = TOOLBAR_PX + 32  # top margin of a titled chart: toolbar band, then the title
LEGEND_GAP_PX = 58  # legend top this far under the plot: below the x-axis title on any chart height


def base_layout(fig: go.Figure, title: str | None = None, x_title: str | None = None,
                y_title: str | None = None, height: int = 380) -> go.Figure:
    """Apply the shared layout; axis titles must carry units, e.g. "rate (mL/day)"."""
    fig.update_layout(
        # the title under the band where the chart toolbar (Plotly's mode bar, ~26 px) appears on
        # hover, so that it never covers the title in a narrow column; still inside the top margin
        title=dict(text=title, x=0, xanchor="left", yref="container", y=1, yanchor="top", pad=dict(t=TOOLBAR_PX),
                   font=dict(size=16)) if title else None,
        colorway=PALETTE,
        template="plotly_white",
        height=height,
        margin=dict(l=70, r=30, t=TITLE_MARGIN_PX if title else 30, b=120),
        font=dict(size=13),
        # legend in rows under the x-axis title: above the plot it grew into the title when it
        # wrapped (a phone, presentation fonts)
        legend=dict(orientation="h", yanchor="top", y=-LEGEND_GAP_PX / max(60, height - (TITLE_MARGIN_PX if title else 30) - 120),
                    xanchor="left", x=0),
        hoverlabel=dict(font_size=13),
    )
    if x_title:
        fig.update_xaxes(title_text=x_title)
    if y_title:
        fig.update_yaxes(title_text=y_title)
    return fig

#: One colour per state on every page: granted green, lockout orange, daily maximum vermillion.
PTM_COLOURS = {"granted": OKABE_ITO["green"], "denied: lockout": OKABE_ITO["orange"],
               "denied: daily maximum": OKABE_ITO["vermillion"]}

#: Event kinds in plain words, on every page (timeline, filters, alarm tables, cohort).
EVENT_LABELS = {
    "program_change": "program change",
    "refill": "refill",
    "alarm_low_reservoir": "low-reservoir alarm",
    "alarm_empty_reservoir": "empty-reservoir alarm",
    "alarm_eri": "battery replacement due (ERI)",
    "alarm_end_of_service": "battery end of service",
    "alarm_motor_stall": "motor stall",
    "alarm_catheter_occlusion": "catheter occlusion",
    "ptm_granted": "PTM granted",
    "ptm_denied_lockout": "PTM denied: lockout",
    "ptm_denied_daily_max": "PTM denied: daily max",
    "mri": "MRI",
    "clinician_bolus": "clinician bolus",
}


def event_label(kind: str) -> str:
    return EVENT_LABELS.get(kind, kind.replace("_", " "))
