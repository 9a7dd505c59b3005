"""Settings and training parameters are read once, checked, and wrong values are one-line errors."""

from __future__ import annotations

import json
import logging

import pytest

from toxiclinks.cli import main
from toxiclinks.config import settings, setup_logging
from toxiclinks.errors import ConfigError, InputError
from toxiclinks.model import TrainingParams, load_params


def _params(tmp_path, **changes):
    path = tmp_path / "params.json"
    path.write_text(json.dumps({**load_params().as_dict(), **changes}), encoding="utf-8")
    return path


def test_the_shipped_parameters_load_as_typed_values():
    params = load_params()
    assert isinstance(params, TrainingParams)
    assert params.lightgbm["n_estimators"] > 0 and params.casebook_weight > 0
    assert set(params.view_mix) <= {"ahrefs", "semrush", "majestic", "moz", "gsc", "bing"}


@pytest.mark.parametrize(("change", "said"), [
    ({"learning_rate": 0.1}, "unknown parameter 'learning_rate'"),  # belongs under "lightgbm"
    ({"seed": "seven"}, "'seed' must be a whole number"),
    ({"seed": 7.5}, "'seed' must be a whole number"),
    ({"test_fraction": 1.5}, "test_fraction must be between 0 and 1"),
    ({"view_mix": {"ahref": 1.0}}, "unknown tool 'ahref'"),
    ({"monotone": {"domain__in_spam_list": 2}}, "monotone constraints must be 1 or -1"),
    ({"lightgbm": [1, 2]}, "'lightgbm' must be an object"),
])
def test_a_wrong_parameter_is_named_with_its_file(tmp_path, change, said):
    path = _params(tmp_path, **change)
    with pytest.raises(InputError) as exc:
        load_params(path)
    assert said in str(exc.value) and str(path) in str(exc.value)


def test_train_with_a_wrong_parameter_exits_2_in_one_line(tmp_path, capsys):
    path = _params(tmp_path, n_estimators=10)
    assert main(["train", "--config", str(path), "--out", str(tmp_path / "m"), "--no-track"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "unknown parameter 'n_estimators'" in err
    assert not (tmp_path / "m").exists()


def test_parameters_that_are_not_a_json_object_are_refused(tmp_path):
    path = tmp_path / "p.json"
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(InputError, match="JSON object"):
        load_params(path)
    path.write_bytes(b"\xff\xfe{")
    with pytest.raises(InputError, match="UTF-8"):
        load_params(path)


@pytest.mark.parametrize(("name", "value"), [("TOXICLINKS_WATCH_SECONDS", "soon"),
                                             ("TOXICLINKS_WATCH_SECONDS", "-1"),
                                             ("TOXICLINKS_MAX_BODY_MB", "nan"),
                                             ("TOXICLINKS_MAX_BODY_MB", "0")])
def test_a_setting_that_cannot_work_is_a_config_error_naming_it(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=name):
        settings()


def test_serve_refuses_a_bad_setting_before_starting_a_server(monkeypatch, capsys):
    monkeypatch.setenv("TOXICLINKS_WATCH_SECONDS", "soon")
    assert main(["serve", "--port", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "TOXICLINKS_WATCH_SECONDS" in err


def test_settings_are_typed(monkeypatch, tmp_path):
    monkeypatch.setenv("TOXICLINKS_WATCH_SECONDS", "2.5")
    monkeypatch.setenv("TOXICLINKS_MAX_BODY_MB", "3")
    monkeypatch.setenv("TOXICLINKS_LABELS_DB", str(tmp_path / "l.sqlite"))
    s = settings()
    assert s.watch_seconds == 2.5 and s.max_body_bytes == 3 * 1024 * 1024 and s.labels_db == tmp_path / "l.sqlite"


def test_logging_is_quiet_by_default_and_speaks_with_v(capsys):
    log = logging.getLogger("toxiclinks.model._train")
    try:
        setup_logging(0)
        log.info("fold 1/7")
        assert "fold 1/7" not in capsys.readouterr().err
        setup_logging(1)
        log.info("fold 2/7")
        assert "toxiclinks: fold 2/7" in capsys.readouterr().err
        setup_logging(1)  # set up twice: still one line per message
        log.info("fold 3/7")
        assert capsys.readouterr().err.count("fold 3/7") == 1
    finally:
        setup_logging(0)


def test_an_unusable_home_folder_is_one_line_naming_it(tmp_path, monkeypatch, capsys):
    taken = tmp_path / "a-file"
    taken.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("TOXICLINKS_HOME", str(taken))
    assert main(["disavow", "validate", str(taken)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "TOXICLINKS_HOME" in err
