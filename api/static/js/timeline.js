// Each assignment of a ticket with its own timeline (docs/api.md, "Assignments"): offered, accepted, arrived, and
// how it ended: done, declined, timed out or withdrawn, and "reassigned" when a later assignment of the same trade
// and role took the work on. Read from the ticket's JSON alone; pure (the page formats the times).

const ms = (iso) => (iso ? Date.parse(iso) : null);
const number = (id) => Number(String(id || "").replace(/\D+/g, "")) || 0;

/** The events of one assignment in order, each { step, at (ms) }; `next` is the assignment that took its work on. */
export function assignmentEvents(a, next = null) {
  const events = [];
  if (a.offered_at) events.push({ step: "offered", at: ms(a.offered_at) });
  if (a.accepted_at) events.push({ step: "accepted", at: ms(a.accepted_at) });
  if (a.arrived_at) events.push({ step: "arrived", at: ms(a.arrived_at) });
  // an ended one ends in its status (done, declined, timed out, withdrawn); one ended without its work done
  // was handed on when a later assignment of its trade and role exists
  if (a.ended_at || a.done_at) events.push({ step: a.status, at: ms(a.done_at || a.ended_at) });
  if (a.ended_at && !a.done_at && next) {
    events.push({ step: "reassigned", at: ms(next.offered_at) ?? ms(a.ended_at), to: next.technician });
  }
  return events;
}

/** Every assignment in the order it was made (cycle, then id), with its events and whether it is still in play
 *  (`live`: from the meta's vocabulary, statuses.js). */
export function timelines(assignments, live = new Set()) {
  const list = [...(assignments || [])].sort((a, b) => (a.cycle || 1) - (b.cycle || 1) || number(a.id) - number(b.id));
  return list.map((a, i) => {
    const next = list.slice(i + 1).find((b) => b.trade === a.trade && b.role === a.role && (b.cycle || 1) === (a.cycle || 1));
    return { assignment: a, live: live.has(a.status), events: assignmentEvents(a, next || null) };
  });
}
