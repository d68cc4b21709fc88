"""Whole numbers typed by people: ASCII digits only, so a superscript or an Arabic-Indic
digit is one clear error, never a crash of int() or a silent conversion."""

from __future__ import annotations

import argparse

import pytest

from playground.numbers import NumberError, argument, is_whole, port_or_name, whole


@pytest.mark.parametrize("text", ["0", "80", "007", "65535"])
def test_ascii_digits_are_whole_numbers(text):
    assert is_whole(text) and whole(text) == int(text)


@pytest.mark.parametrize("text", ["", "8\u00b2", "\u0668\u0660", " 8", "8 ", "+8", "-8",
                                  "8_000", "0x50", "\uff18\uff10", "8.0"])
def test_anything_else_is_refused_with_one_line(text):
    assert not is_whole(text)
    with pytest.raises(NumberError) as error:
        whole(text, "--port")
    assert str(error.value).startswith("--port: ") and "\n" not in str(error.value)


def test_ranges_and_very_long_numbers():
    with pytest.raises(NumberError, match="out of range"):
        whole("70000", "port", 1, 65535)
    with pytest.raises(NumberError, match="too long"):
        whole("9" * 5000, "count")


def test_argparse_type_names_the_option():
    parser = argparse.ArgumentParser(exit_on_error=False)
    parser.add_argument("--port", type=argument(1, 65535))
    with pytest.raises(argparse.ArgumentError, match="'8\u00b2' is not a whole number"):
        parser.parse_args(["--port", "8\u00b2"])


def test_a_port_is_a_number_or_a_name():
    assert port_or_name("8080", "targetPort") == 8080
    assert port_or_name("http", "targetPort") == "http"
    assert port_or_name("8\u00b2", "targetPort") == "8\u00b2"  # the name rules refuse it
    with pytest.raises(NumberError):
        port_or_name("0", "targetPort")
