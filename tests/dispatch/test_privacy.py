"""Masking residents' data in free text, and errors described without SQL or values (dispatch/privacy.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from caretaker.dispatch.privacy import describe_error, has_phone, mask_phone, mask_text, scrub_traceback


@pytest.mark.parametrize(("phone", "shown"), [("13800138000", "138****8000"), ("66881234", "****1234"),
                                              ("021-12345678", "021****5678"), ("12345", "***45"), ("", "")])
def test_mask_phone_hides_at_least_four_digits(phone, shown):
    assert mask_phone(phone) == shown


@pytest.mark.parametrize("typed", ["13800138000", "138 0013 8000", "138-0013-8000", "138.0013.8000",
                                   "+86 138 0013 8000", "+8613800138000", "0086 13800138000", "(+86) 13800138000",
                                   "电话13800138000", "021-68881234", "(021) 6888 1234", "0755 1234 5678",
                                   "+86 21 6888 1234", "6888 1234"])
def test_every_form_of_a_number_is_found_and_masked(typed):
    assert has_phone(f"call {typed} please")
    masked = mask_text(f"call {typed} please")
    assert masked.startswith("call ") and masked.endswith(" please") and "****" in masked and typed not in masked
    assert sum(c.isdigit() for c in masked) <= 7  # at least four digits hidden


@pytest.mark.parametrize("note", ["accept deadline 2026-11-23T02:15:00.000Z is near", "alert AL-123456789012 attached",
                                  "ticket T-261123-4A9A2D", "level 2 → 1: Water leak: A-B2-LEAK-1",
                                  "satisfaction 5/5", "to t-wang: nearest, 240 s away", "1,380,013,8000 litres"])
def test_what_dispatch_writes_is_left_alone(note):
    assert mask_text(note) == note and not has_phone(note)


def test_names_and_units_are_replaced_whole():
    text_ = "Qian Hui (qian hui) of A-0302 says A-03021 and Qian Huixin are fine"
    assert mask_text(text_, ["Qian Hui", "", "Q"], ["A-0302"]) == "*** (***) of [unit] says A-03021 and ***xin are fine"


def test_a_database_error_is_described_without_sql_or_values():
    engine = create_engine("sqlite://", hide_parameters=True)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (phone TEXT CHECK (phone NOT LIKE '1%'))"))
        with pytest.raises(IntegrityError) as caught:
            conn.execute(text("INSERT INTO t VALUES (:p)"), {"p": "13800138000"})
    detail = describe_error(caught.value)
    assert detail.startswith("IntegrityError (IntegrityError): CHECK constraint failed")
    assert "INSERT" not in detail and "SQL" not in detail and "13800138000" not in detail


def test_a_traceback_loses_quoted_rows_and_numbers():
    formatted = ('psycopg.errors.CheckViolation: new row violates check constraint "t_phone_check"\n'
                 "DETAIL:  Failing row contains (1, Qian Hui, 13800138000).\n"
                 "[SQL: INSERT INTO t VALUES (%(n)s, %(p)s)]\n[parameters: {'n': 'Qian Hui', 'p': '13800138000'}]\n")
    scrubbed = scrub_traceback(formatted)
    assert "Qian Hui" not in scrubbed and "13800138000" not in scrubbed and "t_phone_check" in scrubbed
