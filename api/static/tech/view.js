// What the page shows of a ticket, decided from its JSON alone (no DOM): the caller's own part in it,
// the steps they may take, the order of the list, places and countdowns in words.

const OPEN = new Set(["assigned", "accepted", "on_site"]);
// an assignment's status (docs/api.md, several trades) as the step it waits for
const ASSIGNMENT = { offered: "assigned", accepted: "accepted", on_site: "on_site" };

// The caller's open part in the ticket, or null: their own assignment when the ticket lists
// `assignments`, else the ticket's `assignee` and status.
export function myPart(ticket, me) {
  if (Array.isArray(ticket.assignments)) {
    const mine = ticket.assignments.find((a) => a.technician === me && a.status in ASSIGNMENT);
    if (!mine) return null;
    return { status: ASSIGNMENT[mine.status], role: mine.role || "owner", assignment: mine.id || null,
             acceptBy: mine.accept_by || ticket.accept_by, arriveBy: mine.arrive_by || ticket.arrive_by,
             key: `${ticket.id}/${mine.id}` };
  }
  if (ticket.assignee !== me || !OPEN.has(ticket.status)) return null;
  return { status: ticket.status, role: "owner", assignment: null, acceptBy: ticket.accept_by,
           arriveBy: ticket.arrive_by, key: `${ticket.id}/${ticket.accepted_at || ""}` };
}

// Support finishes with `done`, the owner with `resolve` (note and photos).
export function actionsFor(part) {
  const finish = part.role === "support" ? "done" : "resolve";
  if (part.status === "assigned") return ["accept", "decline"];
  if (part.status === "accepted") return ["arrive", finish];
  return [finish];
}

// most urgent first, then newest
export function ordered(items) {
  return [...items].sort((a, b) => a.ticket.urgency - b.ticket.urgency
    || Date.parse(b.ticket.created_at) - Date.parse(a.ticket.created_at));
}

export function floorText(t, floor) {
  return floor < 0 ? t("floor.below", { floor: -floor }) : t("floor.above", { floor });
}

const zoneText = (zone) => (zone ? zone.replace(/[-_]+/g, " ") : null);

// "Tower A, basement 2, pump room"
export function placeText(t, ticket) {
  const route = ticket.route || {};
  const where = ticket.location || {};
  const parts = [route.building_name || where.building, floorText(t, where.floor), zoneText(where.zone)];
  return parts.filter((p) => p !== null && p !== undefined && p !== "").join(t("sep"));
}

// "3 min from you", from the server's travel time
export function distanceText(t, route) {
  if (!route || route.travel_s === null || route.travel_s === undefined) return t("route.unknown");
  if (route.travel_s === 0) return t("route.here");
  return t("route.from", { minutes: Math.max(1, Math.round(route.travel_s / 60)) });
}

export function clock(msLeft) {
  const s = Math.floor(Math.abs(msLeft) / 1000);
  const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60), ss = s % 60;
  const two = (n) => String(n).padStart(2, "0");
  return hh ? `${hh}:${two(mm)}:${two(ss)}` : `${two(mm)}:${two(ss)}`;
}

export const isMasked = (phone) => /\*/.test(phone || "");

export function valueText(t, value) {
  if (value === true) return t("value.true");
  if (value === false) return t("value.false");
  return String(value);
}
