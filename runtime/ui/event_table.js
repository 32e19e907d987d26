// The raw history as a table: every event, filterable by kind or text, with only the rows in view
// in the DOM (a history of 10,000 events is 10,000 rows to scroll, not to build). A click shows the
// event's whole JSON.
import {el} from './dom.js';
import {formatTime, formatDuration, parseTime, shortPayload} from './format.js';

const rowHeight = 26;
const viewportHeight = 420;

// The fields that say the most about an event, on one line (as the CLI's timeline).
function describe(e) {
  const failure = (f) => (f ? `${f.errorType}: ${f.message}` : '');
  switch (e.kind) {
    case 'ExecutionStarted': return `${e.name} input=${shortPayload(e.input)}`;
    case 'ExecutionCompleted': return `output=${shortPayload(e.output)}`;
    case 'ExecutionFailed': return failure(e.failureDetails);
    case 'ContinuedAsNew': return `input=${shortPayload(e.input)}`;
    case 'ExecutionTerminated': case 'ExecutionSuspended': case 'ExecutionResumed': return `reason=${JSON.stringify(e.reason)}`;
    case 'TaskScheduled': return `#${e.taskId} ${e.name}${e.attempt > 1 ? ` attempt ${e.attempt}` : ''} input=${shortPayload(e.input)}`;
    case 'TaskCompleted': case 'SubOrchestrationCompleted': return `#${e.taskId} output=${shortPayload(e.output)}`;
    case 'TaskFailed': case 'SubOrchestrationFailed': return `#${e.taskId} ${failure(e.failureDetails)}`;
    case 'TimerCreated': case 'TimerFired': return `#${e.timerId} due ${formatTime(e.fireAt)}`;
    case 'SubOrchestrationCreated': return `#${e.taskId} ${e.name} instance=${e.instanceId} input=${shortPayload(e.input)}`;
    case 'EventRaised': return `${e.name} input=${shortPayload(e.input)}`;
    case 'EventSent': return `#${e.taskId} ${e.name} to ${e.instanceId} input=${shortPayload(e.input)}`;
    case 'ExecutionRewound': return `reason=${JSON.stringify(e.reason)}`;
    case 'ExecutionRestarted':
      return `${e.fromEvent ? `from event ${e.fromEvent}` : 'from the start'} of execution ${e.previousExecutionId}, version ${e.version}`;
    case 'PatchMarker': return `${e.patchId}${e.deprecated ? ' (deprecated)' : ''}`;
    default: return '';
  }
}

const failedKinds = new Set(['TaskFailed', 'SubOrchestrationFailed', 'EntityCallFailed', 'ExecutionFailed']);
const clientKinds = new Set(['ExecutionRewound', 'ExecutionRestarted']);

// A failure a rewind undid stays in the history, struck through; rewinds and restarts stand out.
function rowClass(e) {
  if (e.superseded) return 'event-row superseded';
  if (clientKinds.has(e.kind)) return 'event-row client-action';
  return `event-row${failedKinds.has(e.kind) ? ' failed' : ''}`;
}

/// {element, scrollTo(index)}
export function renderEventTable(events) {
  const first = events.length ? parseTime(events[0].timestamp) : 0;
  const kinds = [...new Set(events.map((e) => e.kind))].sort();
  const kindSelect = el('select', {name: 'kind'}, el('option', {value: ''}, 'every kind'),
    ...kinds.map((k) => el('option', {value: k}, k)));
  const search = el('input', {type: 'search', placeholder: 'search names, ids, payloads'});
  const count = el('span', {class: 'muted'});
  const rowsBox = el('div', {class: 'events-rows'});
  const scroller = el('div', {class: 'events-scroller', id: 'event-rows'}, rowsBox);
  const detail = el('pre', {class: 'event-detail', hidden: true});
  const element = el('section', {class: 'events', id: 'history-events'},
    el('div', {class: 'events-controls'}, kindSelect, search, count),
    el('div', {class: 'events-head'}, el('span', {}, '#'), el('span', {}, 'Time (UTC)'), el('span', {}, 'Offset'),
      el('span', {}, 'Event'), el('span', {}, 'Details')),
    scroller, detail);
  let shown = events;
  let highlighted = -1;

  function drawRows() {
    const top = scroller.scrollTop;
    const from = Math.floor(top / rowHeight);
    const to = Math.min(shown.length, Math.ceil((top + viewportHeight) / rowHeight) + 1);
    rowsBox.replaceChildren(...shown.slice(from, to).map((e, offset) => {
      const row = el('div', {class: `${rowClass(e)}${e.index === highlighted ? ' highlighted' : ''}`,
        dataset: {index: e.index, kind: e.kind}, onclick: () => {
          detail.hidden = false;
          detail.textContent = JSON.stringify(e, null, 2);
        }},
      el('span', {class: 'number'}, e.index), el('span', {class: 'time'}, formatTime(e.timestamp)),
      el('span', {class: 'number'}, `+${formatDuration(parseTime(e.timestamp) - first)}`),
      el('span', {class: 'kind'}, e.kind),
      el('span', {class: 'details'},
        e.superseded ? el('span', {class: 'superseded-note'}, 'superseded by a rewind') : null, describe(e)));
      row.style.top = `${(from + offset) * rowHeight}px`;
      return row;
    }));
  }

  function applyFilter() {
    const kind = kindSelect.value;
    const text = search.value.trim().toLowerCase();
    shown = events.filter((e) => (!kind || e.kind === kind) && (!text || JSON.stringify(e).toLowerCase().includes(text)));
    count.textContent = `${shown.length.toLocaleString('en-US')} of ${events.length.toLocaleString('en-US')} events`;
    rowsBox.style.height = `${shown.length * rowHeight}px`;
    scroller.style.height = `${Math.min(viewportHeight, Math.max(shown.length, 1) * rowHeight)}px`;
    scroller.scrollTop = 0;
    drawRows();
  }

  let pending = false;
  scroller.addEventListener('scroll', () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; drawRows(); });
  });
  kindSelect.addEventListener('change', applyFilter);
  search.addEventListener('input', applyFilter);
  applyFilter();

  return {element, scrollTo(index) {
    kindSelect.value = '';
    search.value = '';
    highlighted = index;
    applyFilter();
    scroller.scrollTop = Math.max(0, shown.findIndex((e) => e.index === index) * rowHeight - viewportHeight / 3);
    drawRows();
  }};
}
