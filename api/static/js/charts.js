// Small inline SVG charts drawn here (no library, no CDN): bars for a series, with a target line. The
// geometry is pure and tested; drawing turns it into SVG elements.

const NS = "http://www.w3.org/2000/svg";

/** Bars for `values` (null: no data, drawn as a gap) in a width × height box: `pad` on the left for the
 *  scale, `bottom` for the labels, `head` above the tallest bar for its value; bars at most `maxBar` wide.
 *  Returns the scale's top, the baseline and each bar's x, y, w, h. Pure. */
export function barGeometry(values, { width, height, pad = 24, bottom = 24, head = 0, max = null, gap = 0.25, maxBar = Infinity }) {
  const top = max ?? Math.max(1, ...values.filter((v) => v !== null && v !== undefined));
  const n = Math.max(1, values.length);
  const slot = (width - pad) / n;
  const w = Math.max(1, Math.min(maxBar, slot * (1 - gap)));
  const usable = height - bottom - head;
  const base = head + usable;
  return { top, base, bars: values.map((v, i) => {
    const h = v === null || v === undefined ? 0 : (Math.min(v, top) / top) * usable;
    return { x: pad + i * slot + (slot - w) / 2, y: base - h, w, h, value: v };
  }) };
}

function el(tag, attrs, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A bar chart: labels under every `labelEvery`-th bar, the value above each bar, an optional target line. */
export function barChart({ values, labels, width = 560, height = 180, max = null, target = null, format = String,
                           labelEvery = 1, title = "", colour = () => "bar" }) {
  const pad = 36, bottom = 22, head = 14;
  const { top, base, bars } = barGeometry(values, { width, height, pad, bottom, head, max, maxBar: 56 });
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": title });
  const usable = base - head;
  svg.append(el("line", { x1: pad, y1: base, x2: width, y2: base, class: "axis" }));
  svg.append(el("text", { x: pad - 4, y: head + 4, class: "tick", "text-anchor": "end" }, format(top)));
  svg.append(el("text", { x: pad - 4, y: base, class: "tick", "text-anchor": "end" }, "0"));
  if (target !== null) {
    const y = base - (Math.min(target, top) / top) * usable;
    svg.append(el("line", { x1: pad, y1: y, x2: width, y2: y, class: "target" }));
  }
  bars.forEach((b, i) => {
    if (b.value === null || b.value === undefined) {
      svg.append(el("text", { x: b.x + b.w / 2, y: base - 3, class: "tick none", "text-anchor": "middle" }, "–"));
    } else {
      svg.append(el("rect", { x: b.x, y: b.y, width: b.w, height: Math.max(b.h, 0.5), class: colour(b.value), "data-value": b.value }));
      if (bars.length <= 16) svg.append(el("text", { x: b.x + b.w / 2, y: b.y - 3, class: "val", "text-anchor": "middle" }, format(b.value)));
    }
    if (i % labelEvery === 0) svg.append(el("text", { x: b.x + b.w / 2, y: height - 6, class: "tick", "text-anchor": "middle" }, labels[i]));
  });
  return svg;
}
