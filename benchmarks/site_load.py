"""Loading a large site file: first start, restart with the file unchanged (the site cache), and check-site,
each against libyaml's bare parse of the same file measured in the same run.

Each figure is taken in a fresh process (so peak memory is the load's own): `parse` is `yaml.load` with
libyaml's CSafeLoader and nothing else; `first` is what `caretaker run` does with an empty site cache (parse,
validate, build the estate, keep it); `restart` the same with the cache kept by `first`; `check` is
`caretaker check-site`'s load (parse and validate, never cached). The file is benchmarks/big_estate.py's:
every device type, towers of 18-33 floors, plant rooms, flats, residents, shifts, badges.

    python -m benchmarks.site_load --devices 100000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.big_estate import generate

_MEASURE = r"""
import gc, json, resource, sys, time
what, path, cache = sys.argv[1], sys.argv[2], sys.argv[3]
started = time.perf_counter()
if what == "parse":
    import yaml
    with open(path, encoding="utf-8") as handle:
        yaml.load(handle.read(), Loader=yaml.CSafeLoader)
elif what == "check":
    from caretaker.estate.site import load_site
    load_site(path)
else:
    from pathlib import Path
    from caretaker.estate.site_cache import load_site_cached
    load_site_cached(path, Path(cache))
seconds = time.perf_counter() - started
gc.collect()
rss = int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize()
print(json.dumps({"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "rss_mb": rss / 2**20}))
"""


def measure(what: str, path: Path, cache: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", _MEASURE, what, str(path), str(cache)], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="caretaker-site-load-") as workdir:
        path, cache = Path(workdir) / "estate.yaml", Path(workdir) / "cache"
        path.write_text(generate(args.devices), encoding="utf-8")
        size_mb = path.stat().st_size / 2**20
        parse = measure("parse", path, cache)
        first = measure("first", path, cache)
        restart = measure("restart", path, cache)
        check = measure("check", path, cache)
    print(f"site file: {args.devices:,} devices, {size_mb:.1f} MB")
    print(f"{'':10} {'seconds':>8} {'x parse':>8} {'peak MB':>8} {'RSS MB':>8}")
    for name, figures in (("parse", parse), ("first", first), ("restart", restart), ("check", check)):
        print(f"{name:10} {figures['seconds']:8.2f} {figures['seconds'] / parse['seconds']:8.2f} "
              f"{figures['peak_mb']:8.0f} {figures['rss_mb']:8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
