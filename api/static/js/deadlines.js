// A ticket's steps and their deadlines, the colour of each countdown, and the order of the ticket list. Pure;
// which statuses put a step behind the ticket come from the meta's vocabulary (statuses.js).

export const WARN_FRACTION = 0.8;  // docs/operations.md: amber once 80 % of a step's time is gone
const ms = (iso) => (iso ? Date.parse(iso) : null);

/** The ticket's timed steps: accept, arrive (when it has a deadline), resolve; each with whether it is done. */
export function steps(t, vocab) {
  const done = { accept: t.accepted_at || !vocab.unaccepted.has(t.status),
                 arrive: t.arrived_at || vocab.fixed.has(t.status),
                 resolve: t.resolved_at || vocab.fixed.has(t.status) };
  return [["accept", t.accept_by], ["arrive", t.arrive_by], ["resolve", t.resolve_by]]
    .filter(([, by]) => by).map(([name, by]) => ({ name, by: ms(by), done: !!done[name], from: ms(t.created_at) }));
}

export function deadlineClass(step, at) {
  if (step.done) return "done";
  if (at > step.by) return "late";
  return (at - step.from) / (step.by - step.from) >= WARN_FRACTION ? "warn" : "ok";
}

export function nextDeadline(t, vocab) {
  const pending = steps(t, vocab).filter((s) => !s.done).map((s) => s.by);
  return pending.length ? Math.min(...pending) : Infinity;
}

export function isLate(t, at, vocab) {
  return !!t.breached || steps(t, vocab).some((s) => !s.done && at > s.by);
}

/** Most urgent level first, then the nearest deadline, then the oldest: what to work on next at the top. */
export function sortTickets(tickets, vocab) {
  return [...tickets].sort((a, b) => a.urgency - b.urgency || nextDeadline(a, vocab) - nextDeadline(b, vocab)
    || String(a.created_at).localeCompare(String(b.created_at)));
}
