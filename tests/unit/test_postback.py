"""The one postback codec: what buttons send back, and how flows read it."""

from __future__ import annotations

import pytest

from handlers.postback import Postback, decode, encode


def test_encode_joins_the_prefix_and_arguments_leaving_out_none():
    assert encode("checkin", "ok", 12) == "checkin:ok:12"
    assert encode("booking", "slot", 42, None) == "booking:slot:42"


def test_decode_reads_back_what_encode_wrote():
    data = encode("booking", "more", "hokatsu_east", 1760000000, 7)
    assert decode(data) == Postback("booking", ("more", "hokatsu_east", "1760000000", "7"))
    assert decode(data).int_arg(3) == 7


def test_missing_arguments_read_as_empty_and_nothing_reads_as_no_prefix():
    assert decode("menu").arg(0) == ""
    assert decode(None) == Postback("", ())
    assert decode("consent:yes:x").int_arg(1) is None


@pytest.mark.parametrize("parts", [("", "x"), ("a:b",), ("faq", "a:b")])
def test_a_separator_inside_a_part_is_refused(parts):
    with pytest.raises(ValueError):
        encode(*parts)


def test_data_longer_than_line_accepts_is_refused():
    with pytest.raises(ValueError):
        encode("faq", "x" * 300)
