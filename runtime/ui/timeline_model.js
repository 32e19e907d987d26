// A history as rows of bars, for the timeline: one row per activity call (its retries on the same
// row, the backoff between them as a grey bar), timer, sub-orchestration and event, each bar from
// scheduled to completed. Pure: events in, rows out, so it is cheap to rebuild and easy to read.
//
// The history records when an event arrived, not when the code began to wait for it: an event's
// bar runs from the orchestration's last step before the arrival (the episode before the one that
// took it in) to the arrival. A running instance with nothing outstanding waits for an event; it
// gets an open "waiting" bar from its last step to now.
//
// A failure a rewind superseded ends its bar as "superseded"; the step runs again from the
// rewind, on the same row. Rewinds and restarts are markers across the chart.
import {parseTime} from './format.js';

const terminalKinds = new Set(['ExecutionCompleted', 'ExecutionFailed', 'ExecutionTerminated', 'ContinuedAsNew']);

/// {start, end, rows: [{kind, label, childId, segments: [{from, to, state, attempt, title, eventIndex}]}], markers, totals}
/// kind: activity | timer | suborchestration | event | wait;
/// state: ok | failed | superseded | running | backoff | pending; markers: [{at, label, eventIndex}].
export function buildTimeline(events, instance, now) {
  const rows = [];
  const open = new Map();          // task or timer key → its running segment
  const callRows = new Map();      // task id of an activity call's first attempt → its row
  const timerRows = new Map();     // timer id → its row, until it fires
  const firedTimers = [];          // this episode's fired timers: a retry's backoff is one of them
  const episodeStarts = [];
  const markers = [];
  let rewound = [];                // superseded failures: {key, segment} to run again at the next rewind
  let start = NaN;
  let end = NaN;
  const totals = {activities: 0, failed: 0, retries: 0, timers: 0, subOrchestrations: 0, events: 0};

  const addRow = (kind, label, extra = {}) => {
    const row = {kind, label, segments: [], ...extra};
    rows.push(row);
    return row;
  };
  const close = (key, at, state, title) => {
    const segment = open.get(key);
    if (!segment) return null;
    open.delete(key);
    segment.to = at;
    segment.state = state;
    if (title) segment.title = `${segment.title} — ${title}`;
    return segment;
  };

  for (const e of events) {
    const at = parseTime(e.timestamp);
    if (Number.isNaN(start)) start = at;
    switch (e.kind) {
      case 'EpisodeStarted':
        episodeStarts.push(at);
        firedTimers.length = 0;
        break;
      case 'ExecutionStarted':
        start = at;
        break;
      case 'TaskScheduled': {
        totals.activities += 1;
        const attempt = e.attempt || 1;
        let row = e.firstTaskId !== undefined ? callRows.get(e.firstTaskId) : undefined;
        if (row) {
          totals.retries += 1;
          row.attempts = attempt;
          const backoff = firedTimers.pop();
          if (backoff) {  // the timer the retry waited on belongs to the call, not a row of its own
            backoff.row.hidden = true;
            totals.timers -= 1;
            row.segments.push({...backoff.segment, state: 'backoff', title: `backoff before attempt ${attempt}`});
          }
        } else {
          row = addRow('activity', `${e.name} #${e.taskId}`, {attempts: 1});
          callRows.set(e.taskId, row);
        }
        const segment = {from: at, to: NaN, state: 'running', attempt, eventIndex: e.index,
          title: `${e.name} (task ${e.taskId}${attempt > 1 ? `, attempt ${attempt}` : ''})`};
        row.segments.push(segment);
        open.set(`task${e.taskId}`, segment);
        break;
      }
      case 'TaskCompleted':
      case 'SubOrchestrationCompleted':
        close(`task${e.taskId}`, at, 'ok');
        break;
      case 'TaskFailed':
      case 'SubOrchestrationFailed': {
        const failure = e.failureDetails || {};
        const key = `task${e.taskId}`;
        const segment = close(key, at, e.superseded ? 'superseded' : 'failed', `${failure.errorType}: ${failure.message}`);
        if (segment) totals.failed += 1;
        if (segment && e.superseded) rewound.push({key, segment, row: rows.find((r) => r.segments.includes(segment))});
        break;
      }
      case 'ExecutionRewound':
        markers.push({at, label: `rewind${e.reason ? `: ${e.reason}` : ''}`, eventIndex: e.index});
        for (const {key, segment, row} of rewound) {
          const again = {from: at, to: NaN, state: 'running', attempt: segment.attempt, eventIndex: segment.eventIndex,
            title: `${segment.title.split(' — ')[0]}, again after the rewind`};
          row.segments.push(again);
          open.set(key, again);
        }
        rewound = [];
        break;
      case 'ExecutionRestarted':
        markers.push({at, label: e.fromEvent ? `restart from event ${e.fromEvent}` : 'restart', eventIndex: e.index});
        break;
      case 'SubOrchestrationCreated': {
        totals.subOrchestrations += 1;
        const row = addRow('suborchestration', e.name, {childId: e.instanceId});
        const segment = {from: at, to: NaN, state: 'running', eventIndex: e.index, title: `${e.name} → ${e.instanceId}`};
        row.segments.push(segment);
        open.set(`task${e.taskId}`, segment);
        break;
      }
      case 'TimerCreated': {
        totals.timers += 1;
        const row = addRow('timer', `timer #${e.timerId}`);
        const segment = {from: at, to: NaN, state: 'pending', planned: parseTime(e.fireAt), eventIndex: e.index,
          title: `timer ${e.timerId}, due ${e.fireAt}`};
        row.segments.push(segment);
        open.set(`timer${e.timerId}`, segment);
        timerRows.set(e.timerId, row);
        break;
      }
      case 'TimerFired': {
        const segment = open.get(`timer${e.timerId}`);
        close(`timer${e.timerId}`, at, 'ok');
        if (segment) firedTimers.push({segment, row: timerRows.get(e.timerId)});
        timerRows.delete(e.timerId);
        break;
      }
      case 'EventRaised': {
        totals.events += 1;
        // episodeStarts ends with the episode that took the event in; the one before is the last step.
        const from = episodeStarts.length >= 2 ? episodeStarts[episodeStarts.length - 2] : start;
        addRow('event', `event ${e.name}`).segments.push({from: Math.min(from, at), to: at, state: 'ok',
          eventIndex: e.index, title: `event '${e.name}' arrived`});
        break;
      }
      default:
        if (terminalKinds.has(e.kind) && !e.superseded) end = at;
    }
  }

  const running = ['Pending', 'Running', 'Suspended'].includes(instance.runtimeStatus);
  if (Number.isNaN(end)) end = running ? Math.max(now, start) : parseTime(instance.lastUpdatedTime);
  for (const segment of open.values()) {
    segment.to = segment.state === 'pending' && segment.planned > end ? segment.planned : end;
    segment.state = running ? 'running' : 'unfinished';
  }
  if (running && open.size === 0 && instance.runtimeStatus === 'Running') {
    // A running instance with a failure recorded is stalled (its code does not replay), not waiting.
    const stalled = Boolean(instance.failureDetails);
    const lastStep = episodeStarts.length ? episodeStarts[episodeStarts.length - 1] : start;
    addRow('wait', stalled ? 'stalled (see the failure)' : 'waiting for an event').segments.push({
      from: lastStep, to: end, state: stalled ? 'failed' : 'running',
      title: stalled ? 'the code cannot replay the history' : 'nothing scheduled: the orchestration waits for an event'});
  }
  const visible = rows.filter((r) => !r.hidden);
  for (const row of visible) {
    if (row.kind === 'activity' && row.attempts > 1) row.label = `${row.label} (${row.attempts} attempts)`;
  }
  const last = visible.reduce((m, r) => Math.max(m, ...r.segments.map((s) => s.to)), end);
  return {start: Number.isNaN(start) ? now : start, end: Math.max(last, end), rows: visible, markers, totals};
}
