"""The site cache (docs/deploy.md, "The site cache"): a restart with the site file unchanged skips the parse and
gives the same estate; any change to the file parses it again; channel secrets are read from the environment at
every load and never written to the cache; a cache that is torn, foreign or cannot be written costs speed only."""

from __future__ import annotations

import logging
import os
import shutil

import pytest

import caretaker.estate.site as site_module
from caretaker.estate import SiteError
from caretaker.estate.site import load_site
from caretaker.estate import site_cache
from caretaker.estate.site_cache import load_site_cached
from tests.channels.test_site_channels import ENV, SECRET, text
from tests.estate.conftest import EXAMPLE_SITE


@pytest.fixture
def no_parse(monkeypatch):
    """From here on, parsing a site file fails the test: what loads must come from the cache."""
    def refuse(*_args, **_kwargs):
        raise AssertionError("the site file was parsed again")

    def forbid() -> None:
        monkeypatch.setattr(site_module, "read_yaml_with_lines", refuse)
    return forbid


def cached_files(cache):
    return sorted(cache.glob("site-*.pickle"))


def test_a_restart_with_the_file_unchanged_gives_the_same_estate_without_parsing(tmp_path, no_parse):
    site_file, cache = tmp_path / "harbor-view.yaml", tmp_path / "cache"
    shutil.copy(EXAMPLE_SITE, site_file)
    first = load_site_cached(site_file, cache)
    assert first == load_site(site_file)
    assert len(cached_files(cache)) == 1
    no_parse()
    again = load_site_cached(site_file, cache)
    assert again == first
    assert again.devices.keys() == first.devices.keys() and again.technicians == first.technicians


def test_any_change_to_the_file_is_parsed_and_its_errors_reported(tmp_path):
    site_file, cache = tmp_path / "site.yaml", tmp_path / "cache"
    shutil.copy(EXAMPLE_SITE, site_file)
    before = load_site_cached(site_file, cache)
    site_file.write_text(EXAMPLE_SITE.read_text(encoding="utf-8").replace(f"name: {before.name}", "name: Renamed"),
                         encoding="utf-8")
    assert load_site_cached(site_file, cache).name == "Renamed"
    site_file.write_text(site_file.read_text(encoding="utf-8") + "unknown_section: 1\n", encoding="utf-8")
    with pytest.raises(SiteError) as caught:
        load_site_cached(site_file, cache)
    assert "unknown_section" in str(caught.value)
    assert len(cached_files(cache)) == 2  # the bad file is never kept


def test_secrets_come_from_the_environment_at_every_load_and_never_reach_the_cache(tmp_path, no_parse):
    site_file, cache = tmp_path / "site.yaml", tmp_path / "cache"
    site_file.write_text(text(), encoding="utf-8")
    assert load_site_cached(site_file, cache, ENV).channels["ops-webhook"].secret == SECRET
    kept = cached_files(cache)[0].read_bytes()
    assert all(value.encode() not in kept for value in ENV.values())
    no_parse()
    rotated = {**ENV, "OPS_SECRET": "rotated-" + SECRET}
    hook = load_site_cached(site_file, cache, rotated).channels["ops-webhook"]
    assert hook.secret == "rotated-" + SECRET and hook.url == f"https://ops.example/caretaker?key={ENV['OPS_KEY']}"
    with pytest.raises(SiteError) as caught:  # a variable since unset is refused by name, with its line
        load_site_cached(site_file, cache, {k: v for k, v in ENV.items() if k != "OPS_SECRET"})
    assert [(p.line, p.path) for p in caught.value.problems] == [(28, "channels[0].secret")]
    assert "OPS_SECRET is not set" in str(caught.value) and SECRET not in str(caught.value)


def test_a_torn_cache_file_is_a_miss_and_is_written_again(tmp_path, caplog):
    site_file, cache = tmp_path / "harbor-view.yaml", tmp_path / "cache"
    shutil.copy(EXAMPLE_SITE, site_file)
    expected = load_site_cached(site_file, cache)
    kept = cached_files(cache)[0]
    kept.write_bytes(kept.read_bytes()[:100])
    with caplog.at_level(logging.WARNING, logger="caretaker.estate.site_cache"):
        assert load_site_cached(site_file, cache) == expected
    assert f"ignoring {kept}" in caplog.text
    assert kept.stat().st_size > 100  # kept whole again


def test_a_cache_file_others_may_write_is_never_read(tmp_path, no_parse, caplog):
    site_file, cache = tmp_path / "harbor-view.yaml", tmp_path / "cache"
    shutil.copy(EXAMPLE_SITE, site_file)
    load_site_cached(site_file, cache)
    kept = cached_files(cache)[0]
    assert kept.stat().st_mode & 0o077 == 0 and cache.stat().st_mode & 0o077 == 0  # this user's only
    os.chmod(kept, 0o666)
    no_parse()
    with caplog.at_level(logging.WARNING, logger="caretaker.estate.site_cache"), \
            pytest.raises(AssertionError, match="parsed again"):
        load_site_cached(site_file, cache)
    assert "others may write it" in caplog.text


def test_a_cache_that_cannot_be_written_still_loads_and_says_why(tmp_path, caplog):
    site_file = tmp_path / "harbor-view.yaml"
    shutil.copy(EXAMPLE_SITE, site_file)
    not_a_folder = tmp_path / "cache"
    not_a_folder.write_text("a file where the cache folder should be", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="caretaker.estate.site_cache"):
        assert load_site_cached(site_file, not_a_folder) == load_site(site_file)
    assert "cannot keep the validated estate" in caplog.text


def test_with_the_cache_off_every_load_parses(tmp_path, no_parse):
    site_file = tmp_path / "harbor-view.yaml"
    shutil.copy(EXAMPLE_SITE, site_file)
    load_site_cached(site_file, None)
    no_parse()
    with pytest.raises(AssertionError, match="parsed again"):
        load_site_cached(site_file, None)


def test_caretaker_run_loads_its_estates_through_the_cache_it_is_given(tmp_path, no_parse):
    from caretaker.estates import load_estates
    from caretaker.settings import Settings

    site_file, cache = tmp_path / "harbor-view.yaml", tmp_path / "cache"
    shutil.copy(EXAMPLE_SITE, site_file)
    settings = Settings(site_file=site_file, site_cache_dir=str(cache))
    (first,) = load_estates(settings)
    no_parse()
    (again,) = load_estates(settings)
    assert again.site == first.site
    assert Settings(site_file=site_file, site_cache_dir="off").site_cache is None


def test_a_large_file_is_parsed_apart_and_gives_the_same_estate(tmp_path, no_parse):
    """Past PARSE_APART_CHARS the parse runs in a child (estate/site_cache.py): the estate is the same as
    parsed here, its problems come back whole, and this process never parses (so never holds the parse's peak)."""
    from caretaker.simulators.load import write_load_site

    site_file = tmp_path / "big.yaml"
    write_load_site(site_file, 14_000)  # just over a million characters
    assert site_file.stat().st_size > site_cache.PARSE_APART_CHARS
    expected = load_site(site_file)
    no_parse()  # from here, a parse in this process fails the test: the child's does not
    loaded = load_site_cached(site_file, None)
    assert loaded == expected and len(loaded.devices) == 14_000

    broken = tmp_path / "broken.yaml"
    broken.write_text(site_file.read_text(encoding="utf-8").replace("type: water_leak", "type: water_leek", 1),
                      encoding="utf-8")
    with pytest.raises(SiteError) as caught:
        load_site_cached(broken, tmp_path / "cache")
    assert caught.value.filename == str(broken)
    lines = broken.read_text(encoding="utf-8").splitlines()
    wrong = 1 + next(n for n, line in enumerate(lines) if "water_leek" in line)
    assert [p.line for p in caught.value.problems] == [wrong]  # the child's line numbers, as a parse here gives
    assert "water_leek" in str(caught.value)
    assert not list((tmp_path / "cache").glob("site-*.pickle"))  # a bad file is never kept
