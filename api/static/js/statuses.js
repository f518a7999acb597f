// The service's status vocabulary as GET /api/v1/meta serves it (docs/api.md, "Meta"): ticket statuses and their
// groups, which step each status allows, assignment statuses (live or ended), alert states (active or not). The
// page keeps no list of its own, so a status dispatch adds shows up here without a change to the page. Pure.

const ids = (entries, keep) => new Set((entries || []).filter(keep).map((e) => String(e.id)));
const minus = (a, b) => new Set([...a].filter((x) => !b.has(x)));

/** The sets the panels ask about, from the meta answer (an empty vocabulary before it arrives). */
export function vocabulary(meta) {
  const m = meta || {};
  const lifecycle = m.lifecycle || {};
  const tickets = m.ticket_statuses || lifecycle.ticket_statuses || [];
  const group = (name) => ids(tickets, (s) => (s.groups || []).includes(name));
  const open = group("open"), active = group("active"), fixed = group("fixed"), final = group("final");
  const steps = lifecycle.ticket_steps || {};
  const allows = (step) => new Set(steps[step] || []);
  const assignments = m.assignment_statuses || lifecycle.assignment_statuses || [];
  return {
    ticketStatuses: tickets.map((s) => String(s.id)),
    open, active, fixed, final,
    board: ids(tickets, (s) => !final.has(String(s.id))),  // what the board lists: anything not over
    unassigned: minus(open, active),                        // work to do that no technician holds
    // open and not yet resolvable: the owner's technician has not accepted (the accept countdown runs)
    unaccepted: minus(open, allows("resolve")),
    awaitingCallback: minus(fixed, final),                  // fixed, the resident not yet called back
    allows: (status, step) => allows(step).has(String(status)),
    assignmentStatuses: assignments.map((s) => String(s.id)),
    liveAssignment: ids(assignments, (s) => s.live),
    alertStates: (m.alert_states || []).map((s) => String(s.id)),
    activeAlert: ids(m.alert_states, (s) => s.active),
  };
}

/** Comma-separated statuses for the API's `?status=`, in the vocabulary's own order. */
export function statusList(vocab, set) {
  return vocab.ticketStatuses.filter((s) => set.has(s)).join(",");
}
