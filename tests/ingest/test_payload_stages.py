"""Dead-letter stages, and a key twice in one object refused rather than read as the parser picks."""

from __future__ import annotations

from caretaker.ingest.payloads import Rejection, stage_of, validate_message
from tests.ingest.test_payloads import LEAK, NOW, NOW_Z, PREFIX, SITE


def test_each_reason_has_its_stage() -> None:
    assert stage_of("bad_payload") == stage_of("too_large") == stage_of("unknown_device") == "validate"
    assert stage_of("bad_step") == "apply"
    assert stage_of("internal_error") == "process"


def test_a_key_twice_is_bad_payload_naming_it() -> None:
    payload = f'{{"ts": "{NOW_Z}", "values": {{"leak": false, "leak": true}}}}'.encode()
    verdict = validate_message(f"{LEAK}/telemetry", payload, SITE, PREFIX, NOW)
    assert isinstance(verdict, Rejection)
    assert (verdict.reason, verdict.detail) == ("bad_payload", "leak: the key appears more than once")
