"""kyc.env: strict readers of settings from the environment, with NAME_FILE secrets."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from kyc.env import env_bool, env_int, env_list, env_str

NAME = "VERITY_TEST_SETTING"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    monkeypatch.delenv(NAME, raising=False)
    monkeypatch.delenv(f"{NAME}_FILE", raising=False)


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "True", "yes", "on", " true "])
def test_true_spellings_read_as_true(monkeypatch, value):
    monkeypatch.setenv(NAME, value)
    assert env_bool(NAME, False) is True


@pytest.mark.parametrize("value", ["0", "false", "FALSE", "no", "off", " off "])
def test_false_spellings_read_as_false(monkeypatch, value):
    monkeypatch.setenv(NAME, value)
    assert env_bool(NAME, True) is False


@pytest.mark.parametrize("value", ["flase", "tru", "2", "enabled", "y", "-1"])
def test_boolean_that_is_neither_true_nor_false_is_an_error(monkeypatch, value):
    monkeypatch.setenv(NAME, value)
    with pytest.raises(ImproperlyConfigured, match="neither true nor false"):
        env_bool(NAME, False)


@pytest.mark.parametrize("value", [None, "", "   "])
def test_missing_or_blank_boolean_takes_the_default(monkeypatch, value):
    if value is not None:
        monkeypatch.setenv(NAME, value)
    assert env_bool(NAME, True) is True
    assert env_bool(NAME, False) is False


def test_whole_number_is_read(monkeypatch):
    monkeypatch.setenv(NAME, " 42 ")
    assert env_int(NAME, 7) == 42


@pytest.mark.parametrize("value", ["4.5", "forty", "1e3", "12h"])
def test_number_that_is_not_whole_is_an_error(monkeypatch, value):
    monkeypatch.setenv(NAME, value)
    with pytest.raises(ImproperlyConfigured, match="not a whole number"):
        env_int(NAME, 7)


def test_missing_number_takes_the_default():
    assert env_int(NAME, 7) == 7


def test_string_is_stripped_and_missing_string_takes_the_default(monkeypatch):
    assert env_str(NAME) is None
    assert env_str(NAME, "fallback") == "fallback"
    monkeypatch.setenv(NAME, "  value  ")
    assert env_str(NAME, "fallback") == "value"


def test_list_is_split_on_commas_without_blanks(monkeypatch):
    monkeypatch.setenv(NAME, "a.example, b.example,,  ,c.example")
    assert env_list(NAME, ["default"]) == ["a.example", "b.example", "c.example"]


def test_missing_list_takes_a_copy_of_the_default():
    default = ["x"]
    value = env_list(NAME, default)
    value.append("y")
    assert default == ["x"]


def test_value_is_read_from_the_file_named_by_name_file(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-the-file\n")
    monkeypatch.setenv(f"{NAME}_FILE", str(secret))
    assert env_str(NAME) == "from-the-file"


def test_name_file_wins_over_name(monkeypatch, tmp_path):
    """A container secret is the deliberate choice; a stray variable must not override it."""
    secret = tmp_path / "secret"
    secret.write_text("from-the-file")
    monkeypatch.setenv(NAME, "from-the-variable")
    monkeypatch.setenv(f"{NAME}_FILE", str(secret))
    assert env_str(NAME) == "from-the-file"


def test_every_reader_accepts_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    monkeypatch.setenv(f"{NAME}_FILE", str(secret))
    secret.write_text("off")
    assert env_bool(NAME, True) is False
    secret.write_text("25")
    assert env_int(NAME, 0) == 25
    secret.write_text("a,b")
    assert env_list(NAME, []) == ["a", "b"]


def test_strictness_applies_to_values_from_a_file(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("flase")
    monkeypatch.setenv(f"{NAME}_FILE", str(secret))
    with pytest.raises(ImproperlyConfigured):
        env_bool(NAME, False)


def test_unreadable_file_is_an_error_not_a_default(monkeypatch, tmp_path):
    monkeypatch.setenv(f"{NAME}_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="cannot be read"):
        env_str(NAME, "fallback")
