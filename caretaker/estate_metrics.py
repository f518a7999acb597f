"""/metrics of an instance with many estates (docs/deploy.md, "Many estates"): every estate's series once per
estate with a `site` label, in one family per name, and the process figures once."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Iterable, Iterator, Mapping

from prometheus_client import CollectorRegistry
from prometheus_client.core import Metric

from caretaker.api.metrics import Families, database_families, exposition

if TYPE_CHECKING:
    from caretaker.service import Service

log = logging.getLogger(__name__)
SITE_LABEL = "site"


def labelled(families_by_site: Mapping[str, Iterable[Metric]]) -> list[Metric]:
    """Return the families of every estate merged by name, each sample with its estate's `site` label."""
    merged: dict[str, Metric] = {}
    for site, families in families_by_site.items():
        for family in families:
            into = merged.get(family.name)
            if into is None:
                into = merged[family.name] = Metric(family.name, family.documentation, family.type, family.unit)
            for sample in family.samples:
                into.samples.append(sample._replace(labels={SITE_LABEL: site, **sample.labels}))
    return list(merged.values())


def _collect(registry: CollectorRegistry) -> Iterator[Metric]:
    return iter(registry.collect())


def labelled_text(registries: Mapping[str, CollectorRegistry], process: CollectorRegistry | None,
                  extra: Mapping[str, Iterable[Metric]] | None = None) -> str:
    """Return Prometheus text: the process figures, then every estate's registry (and `extra` families, the
    database gauges) labelled with its site."""
    by_site: dict[str, list[Metric]] = {site: list(_collect(r)) for site, r in registries.items()}
    for site, families in (extra or {}).items():
        by_site.setdefault(site, []).extend(families)
    text = exposition(process) if process is not None else ""
    return text + exposition(Families(labelled(by_site)))


def deployment_metrics(service: "Service") -> str:
    """/metrics of an instance with many estates: the process figures once, then every estate's counters,
    histograms and database gauges, each series with its `site` label."""
    gauges: dict[str, list[Metric]] = {}
    for site, estate in service.estates.items():
        try:
            with estate.sessions() as session:
                gauges[site] = database_families(session, service.clock.now(), estate.timer_audit.late_after)
        except Exception:  # one estate's database away: the others' figures still serve
            log.exception("estate %s: its database gauges could not be read", site)
    return labelled_text({site: e.metrics.registry for site, e in service.estates.items()},
                         service.process_registry, gauges)
