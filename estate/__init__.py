"""The property as data: the site file, buildings, devices, people, shifts and travel times."""

from caretaker.estate.durations import format_duration, parse_duration
from caretaker.estate.errors import EstateError, SiteError, SiteProblem, format_problems
from caretaker.estate.model import (
    DEFAULT_SLA, DEVICE_EVENTS, DEVICE_FAMILIES, DEVICE_METRICS, DEVICE_TYPES, SKILLS,
    Building, Device, DeviceType, Place, Resident, ShiftWindow, Site, Skill, Sla, Supervisor, Technician,
    TravelRules, Unit,
)
from caretaker.estate.shifts import is_on_shift, parse_shift, parse_shifts
from caretaker.estate.site import load_site, parse_site, summarize_site
from caretaker.estate.travel import TravelTable, build_travel_table, get_travel_table, travel_seconds

__all__ = [
    "DEFAULT_SLA", "DEVICE_EVENTS", "DEVICE_FAMILIES", "DEVICE_METRICS", "DEVICE_TYPES", "SKILLS",
    "Building", "Device", "DeviceType", "EstateError", "Place", "Resident", "ShiftWindow", "Site", "SiteError",
    "SiteProblem", "Skill", "Sla", "Supervisor", "Technician", "TravelRules", "TravelTable", "Unit",
    "build_travel_table", "format_duration", "format_problems", "get_travel_table", "is_on_shift",
    "load_site", "parse_duration", "parse_shift", "parse_shifts", "parse_site", "summarize_site",
    "travel_seconds",
]
