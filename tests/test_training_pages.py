"""AppTest for every training page: progress, player (questions, program, refill visit), instructor."""
from __future__ import annotations

from datetime import date


PLAYER = "pages/training_player.py"


def _open(app, page: str, token: str | None = None, **params):
    """A new session on ``page``; ``token`` opens that workspace (None: a new one)."""
    at = app({**({"ws": token} if token else {}), **params})
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _ws(at) -> str:
    """The workspace token the app put in the address."""
    value = at.query_params["ws"]
    return value[0] if isinstance(value, list) else value


def _name(at, name="Dr Trainee"):
    at.text_input(key="trn_name").input(name)
    at.button(key="trn_name_save").click().run()
    assert not at.exception


def _markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_progress_page_lists_the_deck_and_keeps_the_name_in_the_workspace(app):
    at = _open(app, "pages/training.py")
    token = _ws(at)
    links = [p.label for p in at.get("page_link")]
    assert "Read the pump before you touch it" in links and len(links) >= 14
    assert at.metric[0].value == f"0 of {len(links)}"
    _name(at, "  Dr   Ada  ")
    again = _open(app, "pages/training.py", token)  # a new session of the same workspace
    assert again.text_input(key="trn_name").value == "Dr Ada"
    other = _open(app, "pages/training.py")
    assert other.text_input(key="trn_name").value == ""


def test_empty_name_is_refused_in_plain_words(app):
    at = _open(app, "pages/training.py")
    at.text_input(key="trn_name").input("   ")
    at.button(key="trn_name_save").click().run()
    assert any("enter a name" in e.value for e in at.error)


def _submit(at, ex_id):
    at.button(key=f"trn_{ex_id}_submit").click().run()
    assert not at.exception, [e.value for e in at.exception]


def test_question_exercise_right_then_wrong_with_reasons_and_attempts(app):
    at = _open(app, PLAYER, ex="read-the-pump")
    token = _ws(at)
    _name(at)
    assert at.button(key="trn_read-the-pump_submit").disabled is False
    at.radio(key="trn_read-the-pump_w_q_daily_dose").set_value("b")
    at.radio(key="trn_read-the-pump_w_q_refill_by").set_value("after").run()
    _submit(at, "read-the-pump")
    text = _markdown(at)
    assert "PASS" in text and "FAIL" not in text and "787.5 mcg/day" in text
    assert at.metric[0].value == "100 %"
    assert "Debrief" in text
    at.button(key="trn_read-the-pump_again").click().run()
    at.radio(key="trn_read-the-pump_w_q_daily_dose").set_value("c").run()
    at.radio(key="trn_read-the-pump_w_q_refill_by").set_value("after").run()
    _submit(at, "read-the-pump")
    text = _markdown(at)
    assert ":red[**FAIL**] Daily dose read from the flex steps (time-weighted): answered: 900 mcg/day; " \
           "expected: 787.5 mcg/day" in text
    assert at.metric[0].value == "50 %"
    assert any("daytime step read as the daily rate" in w.value for w in at.warning)
    progress = _open(app, "pages/training.py", token)
    assert progress.metric[0].value.startswith("1 of") and progress.metric[1].value == "2"


def test_program_exercise_edits_are_evaluated_live_and_scored(app):
    ex = "mg-mcg-concentration"
    at = _open(app, PLAYER, ex=ex)
    _name(at)
    k = f"trn_{ex}_w_p"
    at.number_input(key=f"{k}_conc0").set_value(2000.0)
    at.selectbox(key=f"{k}_unit0").set_value("mg/mL")
    at.number_input(key=f"{k}_rate").set_value(0.05).run()
    assert any(e.value.startswith("**HARD · `CONCENTRATION_NOT_PLAUSIBLE`") for e in at.error)
    _submit(at, ex)
    assert at.metric[0].value == "0 %" and at.metric[2].value == "2"  # two hard stops
    at.button(key=f"trn_{ex}_again").click().run()
    at.number_input(key=f"{k}_conc0").set_value(2.0)
    at.selectbox(key=f"{k}_unit0").set_value("mg/mL")
    at.number_input(key=f"{k}_rate").set_value(0.05).run()
    assert "100 mcg/day" in _markdown(at)
    _submit(at, ex)
    assert at.metric[0].value == "100 %"


def test_draft_survives_a_new_session_of_the_same_workspace(app):
    at = _open(app, PLAYER, ex="mri-motor-stall")
    token = _ws(at)
    at.radio(key="trn_mri-motor-stall_w_q_missed").set_value("b").run()
    again = _open(app, PLAYER, token, ex="mri-motor-stall")
    assert again.radio(key="trn_mri-motor-stall_w_q_missed").value == "b"


def test_refill_visit_step_by_step(app):
    ex = "refill-visit-discrepancy"
    at = _open(app, PLAYER, ex=ex)
    _name(at)
    at.button(key=f"trn_{ex}_v0").click().run()
    at.number_input(key=f"trn_{ex}_v1_n").set_value(6.0)
    at.button(key=f"trn_{ex}_v1").click().run()
    at.number_input(key=f"trn_{ex}_v2_n").set_value(3.2)
    at.button(key=f"trn_{ex}_v2").click().run()
    assert "| withdrawn (recorded) | 3.2 mL |" in _markdown(at)  # the compare step shows what was recorded
    at.radio(key=f"trn_{ex}_v3_r").set_value("stop").run()
    at.button(key=f"trn_{ex}_v3").click().run()
    assert not at.exception
    assert any("2.8 mL" in s.value for s in at.success)
    _submit(at, ex)
    assert at.metric[0].value == "100 %"


def test_instructor_view_is_closed_without_a_key(app, monkeypatch):
    monkeypatch.delenv("PUMP_INSTRUCTOR_KEY", raising=False)
    at = _open(app, "pages/training_instructor.py")
    assert any("closed" in i.value for i in at.info)
    assert not at.dataframe and not at.text_input


def test_instructor_view_wrong_key_gets_nothing_right_key_gets_aggregates(app, monkeypatch):
    monkeypatch.setenv("PUMP_INSTRUCTOR_KEY", "s3cret-key")
    at = _open(app, PLAYER, ex="mri-motor-stall")
    _name(at, "Instructor Test Trainee")
    at.radio(key="trn_mri-motor-stall_w_q_after_mri").set_value("nothing")
    at.radio(key="trn_mri-motor-stall_w_q_missed").set_value("b").run()
    _submit(at, "mri-motor-stall")
    ins = _open(app, "pages/training_instructor.py")
    ins.text_input(key="trn_key").input("wrong")
    _form_submit(ins)
    assert any("Wrong key" in e.value for e in ins.error)
    assert not ins.dataframe and not ins.metric
    ins.text_input(key="trn_key").input("s3cret-key")
    _form_submit(ins)
    assert not ins.exception
    tables = [d.value for d in ins.dataframe]
    per_ex = next(v for v in tables if "pass_rate_percent" in v.columns and "level" in v.columns)
    row = per_ex[per_ex["exercise"] == "mri-motor-stall"].iloc[0]
    assert row["attempts"] >= 1
    assert "| mri-motor-stall | assumes the pump restarts unchecked |" in _markdown(ins)
    assert [m.label for m in ins.metric][:2] == ["Trainees", "Attempts"]


def _form_submit(at):
    btn = next(b for b in at.button if b.label == "Open the instructor view")
    btn.click().run()


def test_a_link_to_another_exercise_wins_over_the_last_choice(app):
    at = _open(app, PLAYER, ex="read-the-pump")
    assert at.selectbox(key="trn_pick").value == "read-the-pump"
    at.query_params["ex"] = "opioid-switch"
    at.run()
    assert at.selectbox(key="trn_pick").value == "opioid-switch"
    at.selectbox(key="trn_pick").set_value("ptm-worst-case").run()
    assert at.selectbox(key="trn_pick").value == "ptm-worst-case"
    assert "PTM boluses that empty the reservoir early" in _markdown(at)


def test_routine_refill_visit_to_the_printout(app):
    ex = "refill-visit-routine"
    at = _open(app, PLAYER, ex=ex)
    _name(at)
    k = f"trn_{ex}_v"
    at.button(key=f"{k}0").click().run()
    for i, value in ((1, 4.2), (2, 4.1)):
        at.number_input(key=f"{k}{i}_n").set_value(value)
        at.button(key=f"{k}{i}").click().run()
    for i, choice in ((3, "proceed"), (4, "accept"), (5, "inject"), (6, "continue")):
        at.radio(key=f"{k}{i}_r").set_value(choice).run()
        at.button(key=f"{k}{i}").click().run()
    at.number_input(key=f"{k}7_res").set_value(20.0)
    at.number_input(key=f"{k}7_alarm").set_value(2.0)
    at.button(key=f"{k}7").click().run()
    assert "| Daily volume | Daily dose |" in _markdown(at)  # the program step previews the figures
    assert "morphine 3 mg/day" in _markdown(at)  # the running program, unchanged: 0.3 mL/day x 10 mg/mL
    at.button(key=f"{k}8").click().run()
    at.button(key=f"{k}9").click().run()

    at.date_input(key=f"{k}10_d").set_value(date(2027, 1, 16))
    at.button(key=f"{k}10").click().run()
    assert not at.exception
    assert sum("Visit over" in i.value for i in at.info) == 1
    assert not at.error, [e.value for e in at.error]
    _submit(at, ex)
    assert at.metric[0].value == "100 %"


def test_player_shows_the_figures_rounded_by_unit(app):
    # story-a: (7 h x 0.3 + 15 h x 0.45 + 2 h x 0.3) / 24 h = 0.39375 mL/day; reservoir 18.8375 mL
    at = _open(app, PLAYER, ex="read-the-pump")
    text = _markdown(at)
    assert "0.394 mL/day" in text and "18.8 mL" in text and "baclofen 2,000 mcg/mL" in text
    assert "0.3937" not in text and "18.84" not in text
