// Names from the site file (GET /api/v1/meta) where the API speaks in ids. Pure.

export function buildingName(meta, id) {
  const b = ((meta && meta.buildings) || []).find((x) => x.id === id);
  return b ? b.name : id;
}

export function technicianName(meta, id) {
  const x = ((meta && meta.technicians) || []).find((tech) => tech.id === id);
  return x ? x.name : id;
}

export function floorName(floor, t) {
  return floor < 0 ? t("place.basement", { floor: -floor }) : t("place.floor", { floor });
}

/** "Tower A (1号楼) · 3 层 · lobby", or "unknown" without a location. */
export function where(location, meta, t) {
  if (!location) return t("place.unknown");
  return [buildingName(meta, location.building), floorName(location.floor, t), location.zone]
    .filter((x) => x !== null && x !== undefined && x !== "").join(" · ");
}
