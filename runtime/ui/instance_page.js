// One instance: its status and payloads, its failure (with the non-determinism report when the
// code no longer matches the history), the actions, its history as a timeline and as a table.
import {api, ApiError} from './api.js';
import {el, append, clear, statusBadge, instanceLink, notice} from './dom.js';
import {formatTime, formatDuration, parseTime, prettyPayload} from './format.js';
import {actionBar} from './instance_actions.js';
import {buildTimeline} from './timeline_model.js';
import {renderTimeline} from './timeline_chart.js';
import {renderEventTable} from './event_table.js';

const terminal = ['Completed', 'Failed', 'Terminated'];

function fact(label, value) {
  return [el('dt', {}, label), el('dd', {}, value)];
}

function payloadBox(title, value, id) {
  return el('section', {class: 'payload-box', id},
    el('h3', {}, title), el('pre', {class: value === null || value === undefined ? 'muted' : ''}, prettyPayload(value)));
}

// "non-deterministic orchestration at history position 12: ..." names the event to look at.
function nondeterminismPosition(failure) {
  const match = /history position (\d+)/.exec(failure.message || '');
  return match ? Number(match[1]) : null;
}

function failureBox(failure, showEvent) {
  const nondeterministic = failure.errorType === 'NonDeterminismError';
  const position = nondeterministic ? nondeterminismPosition(failure) : null;
  return el('section', {class: `failure-box${nondeterministic ? ' nondeterminism' : ''}`, id: 'failure-details'},
    el('h3', {}, nondeterministic ? 'Non-determinism report' : 'Failure'),
    nondeterministic
      ? el('p', {}, 'The orchestration code no longer takes the steps its history records, so the instance is stalled: ' +
          'it keeps its messages and resumes when code that replays this history is deployed.')
      : null,
    el('dl', {class: 'facts'},
      ...fact('Error type', failure.errorType),
      ...fact('Message', el('span', {class: 'failure-text'}, failure.message)),
      ...(failure.details ? fact('Details', el('pre', {class: 'inline-pre'}, failure.details)) : []),
      // A stalled instance is not retried: it waits for code that replays it.
      ...(nondeterministic ? [] : fact('Retriable', failure.nonRetriable ? 'no' : 'yes'))),
    position !== null
      ? el('button', {type: 'button', id: 'show-mismatch', onclick: () => showEvent(position)},
        `Show history event ${position}`)
      : null);
}

// The patches the history recorded (is_patched, deprecate_patch), once each, in order.
function patchesOf(events) {
  const patches = new Map();
  for (const e of events) {
    if (e.kind === 'PatchMarker') patches.set(e.patchId, patches.get(e.patchId) || e.deprecated);
  }
  return [...patches].map(([id, deprecated]) => (deprecated ? `${id} (deprecated)` : id));
}

// Version, patches, and what clients did to the execution (rewinds, the restart it began with).
function codeFacts(instance, events) {
  const version = instance.version ? String(instance.version) : '0 (unversioned)';
  const patches = patchesOf(events);
  const rewinds = events.filter((e) => e.kind === 'ExecutionRewound');
  const restarted = events.find((e) => e.kind === 'ExecutionRestarted');
  const lastReason = rewinds.length ? rewinds[rewinds.length - 1].reason : '';
  return [
    ...fact('Version', el('span', {id: 'instance-version'}, version,
      instance.waitingForVersion ? ' — waiting for a node that registers it' : '')),
    ...(patches.length ? fact('Patches', el('span', {id: 'instance-patches'}, patches.join(', '))) : []),
    ...(rewinds.length ? fact('Rewound', el('span', {id: 'instance-rewinds'},
      `${rewinds.length} time${rewinds.length === 1 ? '' : 's'}${lastReason ? ` (last: ${lastReason})` : ''}`)) : []),
    ...(restarted ? fact('Restarted', el('span', {id: 'instance-restarted'},
      `${restarted.fromEvent ? `from event ${restarted.fromEvent}` : 'from the start'} of execution `,
      el('code', {}, restarted.previousExecutionId))) : []),
  ];
}

const refreshMillis = 5000;

// Where the reader was, so that a refresh redraws the page without moving it.
function scrollPositions(view) {
  const of = (selector) => view.querySelector(selector)?.scrollTop ?? 0;
  return {page: window.scrollY, timeline: of('.timeline-scroller'), events: of('.events-scroller')};
}

function restoreScroll(view, at) {
  const set = (selector, top) => { const node = view.querySelector(selector); if (node) node.scrollTop = top; };
  set('.timeline-scroller', at.timeline);
  set('.events-scroller', at.events);
  window.scrollTo(0, at.page);
}

export function renderInstancePage(view, id, params) {
  const message = el('div', {class: 'action-report', role: 'status'});
  const report = (text, kind) => message.replaceChildren(notice(text, kind));
  let leaveChart = () => {};
  let timer = null;
  const setAuto = (on) => {
    clearInterval(timer);
    timer = on ? setInterval(load, refreshMillis) : null;
    // In the URL without a reload, so that a shared link refreshes too.
    window.history.replaceState(null, '', `#/instance/${encodeURIComponent(id)}${on ? '?auto=1' : ''}`);
  };

  async function load() {
    let instance;
    let recorded;
    const started = performance.now();
    try {
      [instance, recorded] = await Promise.all([api.instance(id), api.history(id)]);
    } catch (error) {
      const text = error instanceof ApiError && error.status === 404
        ? `There is no instance ${id} (it may have been purged).`
        : `Could not load ${id}: ${error instanceof ApiError ? `${error.code}: ${error.message}` : error}`;
      append(clear(view), [el('p', {}, el('a', {href: '#/instances'}, '← Instances')), message, notice(text, 'error')]);
      return;
    }
    const scrolled = scrollPositions(view);
    leaveChart();
    const events = recorded.events;
    const model = buildTimeline(events, instance, Date.now());
    const table = renderEventTable(events);
    const showEvent = (index) => {
      table.scrollTo(index);
      table.element.scrollIntoView({block: 'start'});
    };
    const chart = renderTimeline(model, showEvent);
    leaveChart = chart.leave;
    const ended = terminal.includes(instance.runtimeStatus);
    const ranFor = (ended ? parseTime(instance.lastUpdatedTime) : Date.now()) - parseTime(instance.createdTime);
    append(clear(view), [
      el('p', {class: 'crumbs'}, el('a', {href: '#/instances'}, '← Instances')),
      el('div', {class: 'page-head'},
        el('h1', {class: 'instance-title'}, instance.instanceId),
        statusBadge(instance.runtimeStatus),
        el('button', {type: 'button', class: 'subtle', onclick: load}, 'Refresh'),
        el('label', {class: 'toggle'},
          el('input', {type: 'checkbox', id: 'auto-refresh', checked: timer !== null,
            onchange: (event) => setAuto(event.target.checked)}),
          'Auto-refresh (5 s)')),
      actionBar(instance, report, (purged) => (purged ? (location.hash = '#/instances') : load())),
      message,
      el('dl', {class: 'facts summary'},
        ...fact('Orchestration', instance.name),
        ...fact('Execution', el('code', {}, instance.executionId)),
        ...codeFacts(instance, events),
        ...fact('Created', formatTime(instance.createdTime)),
        ...fact('Last updated', formatTime(instance.lastUpdatedTime)),
        ...fact(ended ? 'Ran for' : 'Running for', formatDuration(ranFor)),
        ...fact('History', `${events.length.toLocaleString('en-US')} events`),
        ...(instance.parentInstanceId ? fact('Parent', instanceLink(instance.parentInstanceId)) : [])),
      instance.failureDetails ? failureBox(instance.failureDetails, showEvent) : null,
      el('div', {class: 'payloads'},
        payloadBox('Input', instance.input, 'instance-input'),
        payloadBox('Output', instance.output, 'instance-output'),
        payloadBox('Custom status', instance.customStatus, 'instance-custom-status')),
      el('h2', {}, 'Timeline'),
      chart.element,
      el('h2', {}, 'History events'),
      table.element]);
    restoreScroll(view, scrolled);
    // Read by the browser test: how long the page took from the request to a drawn timeline.
    view.dataset.loadMillis = String(Math.round(performance.now() - started));
  }

  view.append(notice(`Loading ${id}…`));
  if (params.get('auto') === '1') setAuto(true);
  load();
  return () => {
    clearInterval(timer);
    leaveChart();
  };
}
