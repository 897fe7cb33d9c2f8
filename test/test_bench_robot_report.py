"""The robot benchmark's numbers: Wilson intervals, the helper -> attribute mapping and the per-decision
confusion tables are computed from records alone, so the committed JSON reproduces the README."""
from __future__ import annotations

import pytest

from coc_ros.bench.robot import Row
from coc_ros.bench.robot_decisions import attribute_of
from coc_ros.bench.robot_report import decision_tables, summarize, wilson


def test_wilson_interval():
    lo, hi = wilson(0, 10)
    assert lo == 0.0 and 0.277 < hi < 0.278  # z^2 / (n + z^2)
    lo, hi = wilson(10, 10)
    assert 0.722 < lo < 0.723 and hi == 1.0
    lo, hi = wilson(27, 36)
    assert lo < 27 / 36 < hi


@pytest.mark.parametrize("helper, attribute", [
    ("is_vegan", "vegan"), ("is_recyclable", "recyclable"), ("can_be_recycled", "recyclable"),
    ("is_compostable", "compostable"), ("contains_nuts", "contains_nuts"), ("is_fruit", "fruit"),
    ("is_a_fruit", "fruit"), ("is_vegetables", "vegetable"), ("needs_refrigeration", "needs_fridge"),
    ("is_ingredient_of", "stir_fry_ingredient"), ("is_made_of_glass", "glass"), ("IS_HAZARDOUS", "hazardous"),
    ("pick_place", None), ("get_color", None),
])
def test_helper_names_map_to_attributes(helper, attribute):
    attrs = {"vegan", "recyclable", "compostable", "contains_nuts", "fruit", "vegetable", "needs_fridge",
             "stir_fry_ingredient", "glass", "hazardous"}
    assert attribute_of(helper, attrs) == attribute


def test_decision_tables_before_and_after_calibration():
    record = {"scene": "lunch", "decisions": [
        {"helper": "is_vegan", "args": ["ham"], "value": "True", "raw_logodds": 1.5, "logodds": -0.4},
        {"helper": "is_vegan", "args": ["ham"], "value": "False", "raw_logodds": 0.8},
        {"helper": "is_vegan", "args": ["apple"], "value": "True", "raw_logodds": 2.0},
        {"helper": "is_vegan", "args": ["bread"], "value": "True"},  # bread: `maybe`, not counted
        {"helper": "is_fruit", "args": ["banana"], "value": True},  # no raw log-odds: 'after' only
        {"helper": "get_color", "args": ["ham"], "value": "'pink'"},  # not a yes/no decision
    ]}
    tables = decision_tables([record])
    assert set(tables) == {"vegan", "fruit"}
    assert tables["vegan"]["before"] == {"FP": 2, "TP": 1}
    assert tables["vegan"]["after"] == {"FP": 1, "TN": 1, "TP": 1}
    assert tables["fruit"]["after"] == {"TP": 1} and not tables["fruit"]["before"]


def test_summary_per_split_and_row():
    rec = [{"split": "dev", "mode": "direct", "success": s, "score": float(s), "lm_calls": 1, "seconds": 2.0}
           for s in (True, False, False, True)]
    rec.append({"split": "heldout", "mode": "direct", "success": True, "score": 1.0, "lm_calls": 1, "seconds": 1.0})
    rec.append({"split": "fresh", "mode": "direct", "success": False, "score": 0.5, "lm_calls": 1, "seconds": 1.0})
    rec.append({"split": "blind", "mode": "direct", "success": True, "score": 1.0, "lm_calls": 2, "seconds": 3.0})
    rec.append({"split": "sealed", "mode": "direct", "success": False, "score": 0.25, "lm_calls": 3, "seconds": 4.0})
    rec.append({"split": "vault", "mode": "direct", "success": True, "score": 1.0, "lm_calls": 5, "seconds": 6.0})
    rec.append({"split": "reserve", "mode": "direct", "success": False, "score": 0.75, "lm_calls": 7, "seconds": 8.0})
    rec.append({"split": "cellar", "mode": "direct", "success": True, "score": 1.0, "lm_calls": 9, "seconds": 2.0})
    rec.append({"split": "annex", "mode": "direct", "success": False, "score": 0.5, "lm_calls": 4, "seconds": 3.0})
    rec.append({"split": "loft", "mode": "direct", "success": True, "score": 1.0, "lm_calls": 6, "seconds": 5.0})
    rec.append({"split": "attic", "mode": "direct", "success": False, "score": 0.25, "lm_calls": 8, "seconds": 4.0})
    rec.append({"split": "porch", "mode": "direct", "success": True, "score": 1.0, "lm_calls": 7, "seconds": 6.0})
    rec.append({"split": "shed", "mode": "direct", "success": False, "score": 0.75, "lm_calls": 5, "seconds": 7.0})
    rec.append({"split": "barn", "mode": "direct", "success": True, "score": 1.0, "lm_calls": 3, "seconds": 9.0})
    rec.append({"split": "yard", "mode": "direct", "success": False, "score": 0.5, "lm_calls": 6, "seconds": 8.0})
    rec.append({"split": "dock", "mode": "direct", "success": True, "score": 1.0, "lm_calls": 4, "seconds": 5.0})
    rec.append({"split": "quay", "mode": "direct", "success": False, "score": 0.75, "lm_calls": 2, "seconds": 6.0})
    rec.append({"split": "pier", "mode": "direct", "success": True, "score": 1.0, "lm_calls": 3, "seconds": 4.0})
    rec.append({"split": "wharf", "mode": "direct", "success": False, "score": 0.5, "lm_calls": 5, "seconds": 7.0})
    s = summarize(rec)
    assert s["dev"]["direct"]["success_rate"] == 50.0 and s["dev"]["direct"]["n"] == 4
    assert s["heldout"]["direct"]["successes"] == 1 and s["all"]["direct"]["n"] == 22
    assert s["fresh"]["direct"]["successes"] == 0 and s["fresh"]["direct"]["mean_score"] == 50.0
    assert s["blind"]["direct"]["n"] == 1 and s["blind"]["direct"]["lm_calls"] == 2
    assert s["sealed"]["direct"]["successes"] == 0 and s["sealed"]["direct"]["mean_score"] == 25.0
    assert s["vault"]["direct"]["successes"] == 1 and s["vault"]["direct"]["lm_calls"] == 5
    assert s["reserve"]["direct"]["successes"] == 0 and s["reserve"]["direct"]["mean_score"] == 75.0
    assert s["cellar"]["direct"]["successes"] == 1 and s["cellar"]["direct"]["lm_calls"] == 9
    assert s["annex"]["direct"]["successes"] == 0 and s["annex"]["direct"]["mean_score"] == 50.0
    assert s["loft"]["direct"]["successes"] == 1 and s["loft"]["direct"]["lm_calls"] == 6
    assert s["attic"]["direct"]["successes"] == 0 and s["attic"]["direct"]["mean_score"] == 25.0
    assert s["porch"]["direct"]["successes"] == 1 and s["porch"]["direct"]["lm_calls"] == 7
    assert s["shed"]["direct"]["successes"] == 0 and s["shed"]["direct"]["mean_score"] == 75.0
    assert s["barn"]["direct"]["successes"] == 1 and s["barn"]["direct"]["lm_calls"] == 3
    assert s["yard"]["direct"]["successes"] == 0 and s["yard"]["direct"]["mean_score"] == 50.0
    assert s["dock"]["direct"]["successes"] == 1 and s["dock"]["direct"]["lm_calls"] == 4
    assert s["quay"]["direct"]["successes"] == 0 and s["quay"]["direct"]["mean_score"] == 75.0
    assert s["pier"]["direct"]["successes"] == 1 and s["pier"]["direct"]["lm_calls"] == 3
    assert s["wharf"]["direct"]["successes"] == 0 and s["wharf"]["direct"]["mean_score"] == 50.0
    lo, hi = s["dev"]["direct"]["ci95"]
    assert lo < 50 < hi


def test_report_prints_every_split():
    from rich.console import Console

    from coc_ros.bench.robot_report import print_report

    rec = [{"split": split, "scene": scene, "task": f"t_{split}", "mode": "direct", "success": True, "score": 1.0,
            "lm_calls": 1, "seconds": 1.0, "decisions": []}
           for split, scene in (("dev", "blocks"), ("heldout", "lunch"), ("fresh", "desk"), ("blind", "garage"),
                                ("sealed", "bakery"), ("vault", "greenhouse"), ("reserve", "pet_shop"),
                                ("cellar", "laundry_room"), ("annex", "gym"), ("loft", "nursery"),
                                ("attic", "groceries"), ("porch", "car_boot"), ("shed", "science_lab"),
                                ("barn", "barn_workbench"), ("yard", "post_office"), ("dock", "phone_repair"),
                                ("quay", "airport_security"), ("pier", "library_returns"),
                                ("wharf", "smoothie_bar"))]
    console = Console(record=True, width=200)
    assert set(print_report(rec, console)) == {"dev", "heldout", "fresh", "blind", "sealed", "vault", "reserve",
                                               "cellar", "annex", "loft", "attic", "porch", "shed", "barn",
                                               "yard", "dock", "quay", "pier", "wharf", "all"}
    text = console.export_text()
    assert "held-out split" in text and "fresh split" in text and "blind split" in text and "sealed split" in text
    assert "vault split" in text and "reserve split" in text and "cellar split" in text and "annex split" in text
    assert "loft split" in text and "attic split" in text and "porch split" in text and "shed split" in text
    assert "barn split" in text and "yard split" in text and "dock split" in text and "quay split" in text
    assert "pier split" in text and "wharf split" in text
    assert "t_dev" in text and "t_fresh" not in text and "t_blind" not in text  # per-task rows: dev split only
    assert "t_sealed" not in text and "t_vault" not in text and "t_reserve" not in text and "t_cellar" not in text
    assert "t_annex" not in text and "t_loft" not in text and "t_attic" not in text and "t_porch" not in text
    assert "t_shed" not in text and "t_barn" not in text and "t_yard" not in text and "t_dock" not in text
    assert "t_quay" not in text and "t_pier" not in text and "t_wharf" not in text


def test_rows():
    assert Row.parse("coc-interweave -calibrate").techniques.calibrate is False
    assert Row.parse("direct").name == "direct"
    assert Row.parse("coc-interweave").techniques.rerank is False  # opt-in: off unless the row switches it on
    added = Row.parse("coc-interweave +rerank")
    assert added.name == "coc-interweave +rerank" and added.techniques.rerank and added.techniques.calibrate
    assert Row.parse("coc-interweave").techniques.redraw is False
    redraw = Row.parse("coc-interweave +redraw").techniques
    assert redraw.redraw and not redraw.rerank
    for bad in ("coc-python -grammar", "coc-interweave -nope", "cot", "coc-interweave +calibrate",
                "coc-python +rerank", "coc-interweave -rerank", "coc-interweave -redraw"):
        with pytest.raises(ValueError):
            Row.parse(bad)
