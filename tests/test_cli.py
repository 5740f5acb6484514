"""python -m pumpmodel: evaluate, schema, help; malformed input exits 2 with an error document."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cli(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "pumpmodel", *args], input=stdin, capture_output=True,
                          text=True, cwd=ROOT, timeout=60)


def test_evaluate_file_prints_the_evaluation():
    r = cli("evaluate", "examples/spec_example.json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["daily_volume_ml"] == 0.39375 and out["daily_dose"]["baclofen"] == {"amount": 787.5,
                                                                                   "unit": "mcg/day"}
    assert out["low_reservoir_alarm_at"] == "2027-01-02T07:00:00"
    assert [w["code"] for w in out["warnings"]] == ["START_DOSE_ABOVE_RECOMMENDED",
                                                   "RESERVOIR_ALARM_BEFORE_APPOINTMENT",
                                                   "RESERVOIR_EMPTY_BEFORE_APPOINTMENT"]
    assert "explanations" not in out


def test_evaluate_stdin_and_explain():
    r = cli("evaluate", "--explain", "-", stdin=(ROOT / "examples/spec_example.json").read_text())
    assert r.returncode == 0 and json.loads(r.stdout)["explanations"]


def test_malformed_case_exits_2_naming_every_problem():
    bad = {"pump": {"profile": "x"}, "now": "2026-11-21T09:00:00", "reservoir_ml": -1,
           "proposed": {"drugs": [{"drug": "baclofen", "concentration": 1, "unit": "g/L"}], "mode": "flex",
                        "steps": [{"start": "00:00", "rate_ml_per_day": 0.1},
                                  {"start": "00:00", "rate_ml_per_day": 0.2}]}}
    r = cli("evaluate", "-", stdin=json.dumps(bad))
    assert r.returncode == 2 and "Traceback" not in r.stdout + r.stderr
    err = json.loads(r.stdout)["error"]
    locs = [tuple(e["loc"]) for e in err["errors"]]
    assert ("pump", "profile") in locs and ("reservoir_ml",) in locs
    assert ("proposed", "drugs", 0, "unit") in locs and ("proposed", "steps") in locs
    assert err["message"]


def test_not_json_and_missing_file_exit_2():
    r = cli("evaluate", "-", stdin="{not json")
    assert r.returncode == 2 and json.loads(r.stdout)["error"]["errors"][0]["msg"].startswith("Expecting")
    r = cli("evaluate", "no/such/case.json")
    assert r.returncode == 2 and "cannot read" in json.loads(r.stdout)["error"]["message"]


def test_schema_documents():
    case = json.loads(cli("schema", "case").stdout)
    evaluation = json.loads(cli("schema", "evaluation").stdout)
    assert {"pump", "now", "reservoir_ml", "proposed", "current", "refill"} <= set(case["properties"])
    assert {"daily_volume_ml", "max_daily_volume_ml", "daily_dose", "warnings", "bridge_bolus",
            "refill_by", "empty_at"} <= set(evaluation["properties"])


def test_help_on_each_command():
    for args in (["--help"], ["evaluate", "--help"], ["schema", "--help"]):
        r = cli(*args)
        assert r.returncode == 0 and "usage" in r.stdout


def _spec_with(**changes):
    case = json.loads((ROOT / "examples/spec_example.json").read_text())
    for path, value in changes.items():
        node = case
        *parents, last = path.split(".")
        for p in parents:
            node = node[int(p)] if p.isdigit() else node[p]
        node[int(last) if last.isdigit() else last] = value
    return json.dumps(case)


def _rejected(text):
    r = cli("evaluate", "-", stdin=text)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    return json.loads(r.stdout)["error"]


def test_pump_clock_out_of_range_is_rejected_not_a_crash():
    err = _rejected(_spec_with(now="9999-12-01T00:00:00", next_appointment=None))
    assert err["errors"][0]["loc"] == ["now"] and "between 1900 and 2200" in err["errors"][0]["msg"]


def test_infinite_and_absurd_numbers_are_rejected():
    err = _rejected(_spec_with(**{"proposed.steps.1.rate_ml_per_day": float("inf")}))
    assert err["errors"][0]["loc"] == ["proposed", "steps", 1, "rate_ml_per_day"]
    err = _rejected(_spec_with(**{"proposed.steps.1.rate_ml_per_day": 1e308}))
    assert err["errors"][0]["loc"] == ["proposed", "steps", 1, "rate_ml_per_day"]
    assert "beyond" in err["errors"][0]["msg"]  # refused at the input gate (pumpmodel/gate.py)
    err = _rejected(_spec_with(**{"proposed.steps.1.rate_ml_per_day": 1e9}))
    assert "less than or equal to 1000" in err["errors"][0]["msg"]
    err = _rejected(_spec_with(**{"proposed.ptm.lockout_min": 5e-324}))
    assert err["errors"][0]["loc"] == ["proposed", "ptm", "lockout_min"]


def test_deeply_nested_json_and_non_utf8_are_rejected():
    assert "nested too deeply" in _rejected("[" * 100_000)["errors"][0]["msg"]
    r = subprocess.run([sys.executable, "-m", "pumpmodel", "evaluate", "-"], input=b'{"now": "\xe9"}',
                       capture_output=True, cwd=ROOT, timeout=60)
    assert r.returncode == 2 and "not UTF-8" in json.loads(r.stdout)["error"]["message"]


def test_byte_order_mark_is_accepted():
    r = subprocess.run([sys.executable, "-m", "pumpmodel", "evaluate", "-"],
                       input=b"\xef\xbb\xbf" + (ROOT / "examples/spec_example.json").read_bytes(),
                       capture_output=True, cwd=ROOT, timeout=60)
    assert r.returncode == 0 and json.loads(r.stdout)["daily_volume_ml"] == 0.39375
