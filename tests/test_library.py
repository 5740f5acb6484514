"""Reference data: loaded and validated from data files, every entry sourced."""
import pytest
from pydantic import ValidationError

from pumpmodel import library


def test_every_drug_of_the_domain_is_in_the_library_with_sources():
    drugs = library.drugs()
    assert set(drugs) == {"morphine", "hydromorphone", "ziconotide", "baclofen", "bupivacaine", "clonidine"}
    for d in drugs.values():
        assert d.concentration.source and d.dose_per_day.source and d.titration.source
        assert d.concentration.soft_max <= d.concentration.hard_max


def test_domain_table_values():
    z = library.drug("ziconotide")
    assert (z.dose_per_day.soft_max, z.dose_per_day.hard_max) == (19.2, 21.6)
    assert z.titration.max_increase_per_day == 2.4
    assert (z.stability.first_fill_days, z.stability.undiluted_days, z.stability.diluted_days) == (14, 84, 40)
    b = library.drug("baclofen")
    assert b.unit == "mcg" and b.max_decrease_percent == 20 and not b.admixture_allowed
    assert b.titration.max_increase_percent_by_indication == {"spasticity_spinal": 30, "spasticity_cerebral": 15}
    m = library.drug("morphine")
    assert (m.concentration.soft_max, m.dose_per_day.soft_max, m.dose_per_day.hard_max) == (20, 15, 40)


def test_pump_profiles():
    p = library.pump_profiles()
    assert set(p) == {"programmable-20", "programmable-40", "valve-gated-20", "valve-gated-40", "constant-flow-30"}
    assert p["programmable-40"].reservoir_ml == 40 and p["programmable-40"].refill_discrepancy_ml == 2
    assert p["programmable-20"].refill_discrepancy_ml == 1
    assert p["valve-gated-20"].low_reservoir_alarm_ml == 3.0
    assert (p["valve-gated-40"].min_rate_ml_per_day, p["valve-gated-40"].max_rate_ml_per_day) == (0, 28.8)
    assert p["constant-flow-30"].fixed_rate and p["constant-flow-30"].battery_life_years is None


def test_bad_library_entry_is_rejected_by_pydantic():
    entry = library.drugs()["morphine"].model_dump()
    entry["concentration"]["hard_max"] = 1  # below the soft max
    with pytest.raises(ValidationError, match="below soft_max"):
        library.Drug(**entry)
    entry = library.drugs()["morphine"].model_dump()
    entry["unit"] = "g"
    with pytest.raises(ValidationError):
        library.Drug(**entry)


def test_tables_for_display():
    assert len(library.drug_table()) == 6
    # in words, not Python's True/False
    assert set(library.drug_table()["hard max assumed"]) == {"yes", "no"}
    assert len(library.profile_table()) == 5
