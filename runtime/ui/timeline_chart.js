// The timeline as a Gantt chart on a canvas: only the rows in view are drawn (and only their
// labels are DOM elements), so a fan-out of thousands of calls scrolls as smoothly as ten.
import {el} from './dom.js';
import {formatDuration, formatCount} from './format.js';

const rowHeight = 22;
const labelWidth = 240;
const axisHeight = 26;
const maxViewportHeight = 520;
const overviewHeight = 44;
const colors = {
  activity: '#3b7dd8', suborchestration: '#16897a', timer: '#8e6cc8', event: '#c98a12', wait: '#c98a12',
  failed: '#d93025', superseded: '#f0a7a1', backoff: '#b8bec7', running: '#7aa7e6', unfinished: '#9aa3ad',
  marker: '#c2410c',
};

function colorOf(row, segment) {
  if (segment.state === 'failed') return colors.failed;
  if (segment.state === 'superseded') return colors.superseded;
  if (segment.state === 'backoff') return colors.backoff;
  if (segment.state === 'unfinished') return colors.unfinished;
  return colors[row.kind];
}

// Ticks at a round step (1, 2, 5 × 10^n ms) about every 110 pixels.
function ticks(span, width) {
  const wanted = span / Math.max(1, width / 110);
  const power = 10 ** Math.floor(Math.log10(Math.max(wanted, 1e-3)));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= wanted) || 10 * power;
  const out = [];
  for (let t = 0; t <= span + 1e-9 && out.length < 200; t += step) out.push(t);
  return out;
}

function legend() {
  const item = (color, text, pattern = '') => el('span', {class: 'legend-item'},
    el('span', {class: `swatch ${pattern}`, dataset: {color}}), text);
  const node = el('div', {class: 'legend'},
    item(colors.activity, 'activity'), item(colors.suborchestration, 'sub-orchestration'), item(colors.timer, 'timer'),
    item(colors.event, 'event'), item(colors.failed, 'failed'), item(colors.superseded, 'failed, superseded by a rewind'),
    item(colors.backoff, 'retry backoff'), item(colors.running, 'running', 'striped'),
    item(colors.marker, 'rewind or restart (dashed line)'));
  for (const swatch of node.querySelectorAll('.swatch')) swatch.style.background = swatch.dataset.color;
  return node;
}

/// {element, leave}: the chart for `model` (timeline_model.js); `leave` stops its listeners. A
/// click on a bar opens a sub-orchestration's child, or calls `showEvent` with the index of the
/// event that scheduled the bar; a click on a rewind's or restart's label on the axis shows its event.
export function renderTimeline(model, showEvent) {
  const {rows, totals} = model;
  const span = Math.max(model.end - model.start, 1e-3);
  const counted = (n, one, many) => `${formatCount(n)} ${n === 1 ? one : many}`;
  const summary = el('p', {class: 'timeline-summary'},
    counted(totals.activities, 'activity call', 'activity calls') +
    (totals.retries ? ` (${counted(totals.retries, 'retry', 'retries')})` : '') +
    `, ${formatCount(totals.failed)} failed, ${counted(totals.timers, 'timer', 'timers')}, ` +
    `${counted(totals.subOrchestrations, 'sub-orchestration', 'sub-orchestrations')}, ` +
    `${counted(totals.events, 'event', 'events')}; ${formatDuration(span)} in all`);
  const axis = el('canvas', {class: 'timeline-axis'});
  const markerLabels = el('div', {class: 'timeline-markers'});
  const canvas = el('canvas', {class: 'timeline-bars'});
  const labels = el('div', {class: 'timeline-labels'});
  const spacer = el('div', {class: 'timeline-spacer'}, canvas, labels);
  const scroller = el('div', {class: 'timeline-scroller'}, spacer);
  const tooltip = el('div', {class: 'timeline-tooltip', hidden: true});
  // Every row squeezed into a strip, when they do not fit in view: the shape of a long run at a
  // glance, and a click there scrolls to that part.
  const needsOverview = rows.length * rowHeight > maxViewportHeight;
  const overview = needsOverview ? el('canvas', {class: 'timeline-overview', title: 'all rows; click to scroll there'}) : null;
  const inView = needsOverview ? el('div', {class: 'timeline-overview-window'}) : null;
  const overviewBox = needsOverview ? el('div', {class: 'timeline-overview-box'}, overview, inView) : null;
  const chart = el('div', {class: 'timeline', id: 'timeline',
    dataset: {rows: rows.length, bars: rows.reduce((n, r) => n + r.segments.length, 0),
      failedBars: rows.reduce((n, r) => n + r.segments.filter((s) => s.state === 'failed').length, 0),
      supersededBars: rows.reduce((n, r) => n + r.segments.filter((s) => s.state === 'superseded').length, 0),
      markers: model.markers.length}},
  overviewBox, axis, markerLabels, scroller, tooltip);
  spacer.style.height = `${rows.length * rowHeight}px`;
  scroller.style.height = `${Math.min(maxViewportHeight, Math.max(rows.length, 1) * rowHeight)}px`;
  const element = el('section', {class: 'timeline-section'}, summary, legend(), chart);
  if (rows.length === 0) element.append(el('p', {class: 'muted'}, 'Nothing scheduled yet.'));

  let width = 0;
  let drawPending = false;
  const xOf = (t) => labelWidth + ((t - model.start) / span) * (width - labelWidth - 12);

  function size(target, height) {
    const ratio = window.devicePixelRatio || 1;
    target.width = Math.round(width * ratio);
    target.height = Math.round(height * ratio);
    target.style.width = `${width}px`;
    target.style.height = `${height}px`;
    const context = target.getContext('2d');
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    return context;
  }

  function drawAxis() {
    const context = size(axis, axisHeight);
    context.font = '11px system-ui, sans-serif';
    context.fillStyle = '#5f6b7a';
    context.strokeStyle = '#d5dae1';
    for (const t of ticks(span, width - labelWidth)) {
      const x = Math.round(xOf(model.start + t)) + 0.5;
      context.beginPath();
      context.moveTo(x, axisHeight - 6);
      context.lineTo(x, axisHeight);
      context.stroke();
      context.fillText(`+${formatDuration(t)}`, x + 3, axisHeight - 9);
    }
    markerLabels.replaceChildren(...model.markers.map((m) => {
      const label = el('button', {type: 'button', class: 'timeline-marker', title: m.label,
        onclick: () => showEvent(m.eventIndex)}, m.label);
      const x = Math.round(xOf(m.at));
      label.style.left = `${x}px`;
      // Centred on its line, but kept inside the chart at its right end.
      if (x > width - 120) label.style.transform = 'translateX(-100%)';
      return label;
    }));
  }

  function drawMarkers(context, height) {
    context.strokeStyle = colors.marker;
    context.setLineDash([4, 3]);
    for (const m of model.markers) {
      const x = Math.round(xOf(m.at)) + 0.5;
      context.beginPath();
      context.moveTo(x, 0);
      context.lineTo(x, height);
      context.stroke();
    }
    context.setLineDash([]);
  }

  function drawRows() {
    drawPending = false;
    if (needsOverview) placeOverviewWindow();
    const viewHeight = scroller.clientHeight;
    const top = scroller.scrollTop;
    const first = Math.floor(top / rowHeight);
    const last = Math.min(rows.length, Math.ceil((top + viewHeight) / rowHeight));
    canvas.style.top = `${top}px`;
    const context = size(canvas, viewHeight);
    context.font = '11px system-ui, sans-serif';
    for (let i = first; i < last; i++) {
      const row = rows[i];
      const y = i * rowHeight - top;
      if (i % 2) {
        context.fillStyle = '#f6f8fa';
        context.fillRect(0, y, width, rowHeight);
      }
      for (const segment of row.segments) {
        const x1 = xOf(segment.from);
        const x2 = Math.max(xOf(segment.to), x1 + 3);
        const height = segment.state === 'backoff' ? 6 : 12;
        context.fillStyle = colorOf(row, segment);
        context.fillRect(x1, y + (rowHeight - height) / 2, x2 - x1, height);
        if (segment.state === 'running') {  // stripes: still under way
          context.fillStyle = 'rgba(255,255,255,0.45)';
          for (let x = x1; x < x2; x += 8) context.fillRect(x, y + 5, Math.min(4, x2 - x), 12);
        }
        if (segment.attempt > 1 && x2 - x1 > 18) {
          context.fillStyle = '#fff';
          context.fillText(`#${segment.attempt}`, x1 + 3, y + 15);
        }
      }
    }
    drawMarkers(context, viewHeight);
    // The labels in view, as DOM: a sub-orchestration's is a link to the child instance.
    labels.replaceChildren(...rows.slice(first, last).map((row, offset) => {
      const label = row.childId
        ? el('a', {href: `#/instance/${encodeURIComponent(row.childId)}`, class: 'timeline-label child-link',
          title: `open ${row.childId}`}, `${row.label} → ${row.childId}`)
        : el('span', {class: `timeline-label kind-${row.kind}`, title: row.label}, row.label);
      label.style.top = `${(first + offset) * rowHeight}px`;
      return label;
    }));
  }

  function drawOverview() {
    const context = size(overview, overviewHeight);
    const rowShare = overviewHeight / rows.length;
    rows.forEach((row, i) => {
      for (const segment of row.segments) {
        const x1 = xOf(segment.from);
        context.fillStyle = colorOf(row, segment);
        context.fillRect(x1, i * rowShare, Math.max(xOf(segment.to) - x1, 1), Math.max(rowShare, 1));
      }
    });
  }

  function placeOverviewWindow() {
    const total = rows.length * rowHeight;
    inView.style.top = `${(scroller.scrollTop / total) * overviewHeight}px`;
    inView.style.height = `${Math.max((scroller.clientHeight / total) * overviewHeight, 2)}px`;
  }

  function draw() {
    width = scroller.clientWidth;
    if (width <= labelWidth) return;
    drawAxis();
    if (needsOverview) drawOverview();
    drawRows();
  }
  const schedule = () => {
    if (!drawPending) {
      drawPending = true;
      requestAnimationFrame(drawRows);
    }
  };

  function segmentAt(event) {
    const box = canvas.getBoundingClientRect();
    const x = event.clientX - box.left;
    const row = rows[Math.floor((event.clientY - box.top + scroller.scrollTop) / rowHeight)];
    if (!row || x < labelWidth) return null;
    const hit = row.segments.find((s) => x >= xOf(s.from) - 2 && x <= Math.max(xOf(s.to), xOf(s.from) + 3) + 2);
    return hit ? {row, segment: hit} : null;
  }
  canvas.addEventListener('mousemove', (event) => {
    const hit = segmentAt(event);
    tooltip.hidden = !hit;
    const clickable = hit && (hit.row.childId || hit.segment.eventIndex !== undefined);
    canvas.style.cursor = clickable ? 'pointer' : 'default';
    if (!hit) return;
    const {segment} = hit;
    tooltip.textContent = `${segment.title}: ${formatDuration(segment.to - segment.from)}, ` +
      `from +${formatDuration(segment.from - model.start)} (${segment.state})`;
    const box = chart.getBoundingClientRect();
    tooltip.style.left = `${Math.min(event.clientX - box.left + 12, box.width - 320)}px`;
    tooltip.style.top = `${event.clientY - box.top + 14}px`;
  });
  canvas.addEventListener('mouseleave', () => { tooltip.hidden = true; });
  canvas.addEventListener('click', (event) => {
    const hit = segmentAt(event);
    if (!hit) return;
    if (hit.row.childId) location.hash = `#/instance/${encodeURIComponent(hit.row.childId)}`;
    else if (hit.segment.eventIndex !== undefined) showEvent(hit.segment.eventIndex);
  });
  scroller.addEventListener('scroll', schedule);
  overview?.addEventListener('click', (event) => {
    const share = (event.clientY - overview.getBoundingClientRect().top) / overviewHeight;
    scroller.scrollTop = share * rows.length * rowHeight - scroller.clientHeight / 2;
  });
  const resize = new ResizeObserver(draw);
  resize.observe(scroller);
  return {element, leave: () => resize.disconnect()};
}
