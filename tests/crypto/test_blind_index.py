"""Tests of blind indexes: a known answer, scoping, range, and the sizing plan."""

from __future__ import annotations

import hashlib
import hmac
import math
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from hypothesis import example, given
from hypothesis import strategies as st

from databank.crypto.blind_index import (
    MAX_ROWS_PER_VALUE,
    MIN_ROWS_PER_VALUE,
    AddressTags,
    BlindIndex,
    check_plan,
    plan_bits,
)
from databank.crypto.envelope import aad
from databank.domain.errors import ConfigurationError

INDEX_ROOT = bytes(range(32, 64))
ORG = UUID("11111111-1111-4111-8111-111111111111")
OTHER_ORG = UUID("44444444-4444-4444-8444-444444444444")
VALUES = [f"family-{n}|19{n % 100:02d}-0{n % 9 + 1}-1{n % 10}" for n in range(200)]


def make_index(
    *,
    table: str = "people",
    column: str = "family_name_dob",
    scope: UUID = ORG,
    version: int = 1,
    bits: int = 12,
) -> BlindIndex:
    return BlindIndex(INDEX_ROOT, table, column, scope, version, bits)


def test_known_answer() -> None:
    """The index value is HMAC-SHA256 under an HKDF-derived key, truncated to the top bits."""
    key = HKDF(
        algorithm=SHA256(),
        length=32,
        salt=None,
        info=aad("blind-index", "people", "family_name_dob", ORG, 1),
    ).derive(INDEX_ROOT)
    mac = hmac.new(key, b"dupont|1984-03-02", hashlib.sha256).digest()
    assert int.from_bytes(mac[:8], "big") >> (64 - 12) == 517
    index = make_index()
    assert index.compute("dupont|1984-03-02") == 517
    assert index.compute("") == 3830
    assert index.compute("Müller|2001-12-31") == 2525
    assert make_index(bits=63).compute("dupont|1984-03-02") == 1165820963386726208


def test_deterministic() -> None:
    """Equal values give equal index values, also from a second instance: search can match."""
    first, second = make_index(), make_index()
    assert [first.compute(v) for v in VALUES] == [second.compute(v) for v in VALUES]


@pytest.mark.parametrize(
    "other",
    [
        pytest.param({"scope": OTHER_ORG}, id="scope"),
        pytest.param({"table": "encounters"}, id="table"),
        pytest.param({"column": "given_name_dob"}, id="column"),
        pytest.param({"version": 2}, id="version"),
    ],
)
def test_scopes_are_unrelated(other: dict[str, object]) -> None:
    """The same value in another org, table, column or index version gives an unrelated value."""
    index = make_index(bits=32)
    moved = make_index(bits=32, **other)  # type: ignore[arg-type]
    differing = sum(index.compute(v) != moved.compute(v) for v in VALUES)
    # With 32 bits, a chance collision among 200 values is about one in twenty million.
    assert differing >= 198


@given(value=st.text(), bits=st.integers(min_value=1, max_value=63))
def test_value_in_range(value: str, bits: int) -> None:
    result = BlindIndex(INDEX_ROOT, "people", "family_name_dob", ORG, 1, bits).compute(value)
    assert 0 <= result < 2**bits


def test_values_spread_over_the_range() -> None:
    """With few bits, many rows share each value: 200 values fill all 4 values of 2 bits."""
    index = make_index(bits=2)
    assert {index.compute(v) for v in VALUES} == {0, 1, 2, 3}


@pytest.mark.parametrize("bits", [0, 64, -1])
def test_bits_out_of_range(bits: int) -> None:
    with pytest.raises(ValueError, match="bits"):
        make_index(bits=bits)


def test_index_root_must_be_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        BlindIndex(bytes(16), "people", "family_name_dob", ORG, 1, 12)


def test_repr_shows_no_key() -> None:
    text = repr(make_index())
    assert text.startswith("BlindIndex(table='people', column='family_name_dob'")
    assert "bits=12" in text
    assert make_index().bits == 12
    assert INDEX_ROOT.hex() not in text


def test_plan_for_a_hundred_thousand_rows() -> None:
    """At the planned population each index value covers 16-64 rows (k-anonymity of the index)."""
    bits = plan_bits(100_000)
    assert bits == 12
    assert MIN_ROWS_PER_VALUE <= 100_000 / 2**bits <= MAX_ROWS_PER_VALUE
    check_plan(bits, 100_000, "people.family_name_dob")


def test_plan_bits_small_populations() -> None:
    assert plan_bits(1) == 1
    assert plan_bits(64) == 1
    assert plan_bits(128) == 2
    with pytest.raises(ValueError, match="planned_rows"):
        plan_bits(0)


@pytest.mark.parametrize(
    ("bits", "planned_rows"),
    [
        pytest.param(20, 100_000, id="too-many-bits-nearly-unique"),
        pytest.param(8, 100_000, id="too-few-bits-too-many-candidates"),
        pytest.param(0, 32, id="zero-bits"),
        pytest.param(64, 2**70, id="too-wide"),
    ],
)
def test_check_plan_refuses_a_mis_sized_index(bits: int, planned_rows: int) -> None:
    """A mis-sized blind index is refused at start-up, naming it and the bits to use instead."""
    with pytest.raises(ConfigurationError) as excinfo:
        check_plan(bits, planned_rows, "people.family_name_dob")
    message = str(excinfo.value)
    assert "people.family_name_dob" in message
    assert f"use {plan_bits(planned_rows)} bits" in message


@pytest.mark.parametrize(
    ("bits", "planned_rows"),
    [(4, 16 * 16), (4, 64 * 16), (63, 16 * 2**63), (1, 32)],
    ids=["16-rows-a-value", "64-rows-a-value", "widest", "narrowest"],
)
def test_check_plan_takes_the_bounds_of_the_range(bits: int, planned_rows: int) -> None:
    """16 and 64 rows per value are both inside the accepted range, at 1 and at 63 bits."""
    check_plan(bits, planned_rows, "people.family_name_dob")


def test_check_plan_needs_a_population() -> None:
    with pytest.raises(ValueError, match="planned_rows"):
        check_plan(4, 0, "people.family_name_dob")


@given(planned_rows=st.integers(min_value=64, max_value=10**9))
@example(planned_rows=64)
@example(planned_rows=10**9)
def test_planned_bits_always_pass_the_check(planned_rows: int) -> None:
    """For any population from 64 to a billion rows, the planner's choice passes check_plan."""
    bits = plan_bits(planned_rows)
    check_plan(bits, planned_rows, "any")
    assert bits == max(1, round(math.log2(planned_rows)) - 5)


def test_address_tags_known_answer() -> None:
    """The sign-in throttle's address tags: HMAC-SHA256 under a key of their own, derived from
    the index root for this use alone (HKDF, info "sign-in-throttle" version 1), cut to 16
    bytes. Without the index root no address can be tagged, and the tags are unrelated to the
    blind indexes derived from the same root."""
    tags = AddressTags(INDEX_ROOT)
    assert tags.tag("203.0.113.7") == bytes.fromhex("64fb7a11fb482c599a3dd2291db14bff")
    assert tags.tag("203.0.113.8") != tags.tag("203.0.113.7")
    assert AddressTags(bytes(32)).tag("203.0.113.7") != tags.tag("203.0.113.7")
    for bad in (bytes(31), "x" * 32):
        with pytest.raises(ValueError, match="32 bytes"):
            AddressTags(bad)  # type: ignore[arg-type]
