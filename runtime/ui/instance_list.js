// The instance list: filters, counts by status, pages, auto-refresh. Every filter is in the URL
// (#/instances?runtimeStatus=Running&name=...&ct=<page token>), so a view can be shared.
import {api, ApiError} from './api.js';
import {el, clear, statusBadge, instanceLink, notice} from './dom.js';
import {formatTime, formatDuration, parseTime, shortPayload, formatCount} from './format.js';

const statuses = ['Pending', 'Running', 'Suspended', 'Completed', 'Failed', 'Terminated', 'ContinuedAsNew'];
const refreshMillis = 5000;
const filterNames = ['runtimeStatus', 'name', 'version', 'instanceIdPrefix', 'createdTimeFrom', 'createdTimeTo', 'top'];

// The tokens of the pages before this one, for "Previous": the API pages forward only.
let previousTokens = [];

function hashFor(params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) query.set(name, value);
  const text = query.toString();
  return `#/instances${text ? `?${text}` : ''}`;
}

function readParams(params) {
  const read = {};
  for (const name of [...filterNames, 'ct', 'auto']) read[name] = params.get(name) || '';
  return read;
}

// "2024-05-01T12:00" from a datetime-local input, taken as UTC like every time on the page.
const inputToIso = (value) => (!value ? '' : value.length === 16 ? `${value}:00Z` : `${value}Z`);
const isoToInput = (iso) => (iso ? iso.replace(/Z$/, '').slice(0, 16) : '');

// The version the instance's execution runs (0: the orchestration is not versioned), and whether
// it waits for a node that registers it.
function versionCell(instance) {
  const version = instance.version ? String(instance.version) : '-';
  return el('td', {class: 'number version', title: instance.version ? '' : 'unversioned'}, version,
    instance.waitingForVersion ? el('span', {class: 'waiting-version', title: 'no node serving it registers this version'}, ' (waiting)') : null);
}

export function renderInstanceList(view, _argument, params) {
  const state = readParams(params);
  const selected = new Set(state.runtimeStatus ? state.runtimeStatus.split(',') : []);
  const go = (changes, keepPaging = false) => {
    if (!keepPaging) previousTokens = [];
    location.hash = hashFor({...state, ...changes});
  };

  const countsBar = el('div', {class: 'status-chips', id: 'status-counts'});
  const nameInput = el('input', {type: 'text', name: 'name', value: state.name, placeholder: 'exact name'});
  const versionInput = el('input', {type: 'text', name: 'version', value: state.version, placeholder: 'any', size: 5,
    inputmode: 'numeric', pattern: '\\d*', title: 'a whole number'});
  const prefixInput = el('input', {type: 'text', name: 'instanceIdPrefix', value: state.instanceIdPrefix, placeholder: 'id starts with'});
  const fromInput = el('input', {type: 'datetime-local', name: 'createdTimeFrom', value: isoToInput(state.createdTimeFrom)});
  const toInput = el('input', {type: 'datetime-local', name: 'createdTimeTo', value: isoToInput(state.createdTimeTo)});
  const topSelect = el('select', {name: 'top'},
    ...['25', '50', '100', '250', '1000'].map((n) => el('option', {value: n, selected: (state.top || '50') === n}, n)));
  const autoRefresh = el('input', {type: 'checkbox', id: 'auto-refresh', checked: state.auto === '1'});
  const form = el('form', {class: 'filters', id: 'filters', onsubmit: (event) => {
    event.preventDefault();
    go({name: nameInput.value.trim(), version: versionInput.value.trim(), instanceIdPrefix: prefixInput.value.trim(),
        createdTimeFrom: inputToIso(fromInput.value), createdTimeTo: inputToIso(toInput.value),
        top: topSelect.value, ct: ''});
  }},
  el('label', {}, 'Name', nameInput),
  el('label', {}, 'Version', versionInput),
  el('label', {}, 'Instance id', prefixInput),
  el('label', {}, 'Created from (UTC)', fromInput),
  el('label', {}, 'Created before (UTC)', toInput),
  el('label', {}, 'Per page', topSelect),
  el('div', {class: 'filter-buttons'},
    el('button', {type: 'submit', class: 'primary'}, 'Apply'),
    el('button', {type: 'button', onclick: () => { previousTokens = []; location.hash = '#/instances'; }}, 'Clear')));

  const tableBody = el('tbody');
  const pager = el('div', {class: 'pager'});
  const status = el('div', {class: 'list-status'});
  clear(view).append(
    el('div', {class: 'page-head'},
      el('h1', {}, 'Instances'),
      el('label', {class: 'toggle'}, autoRefresh, 'Auto-refresh (5 s)')),
    countsBar, form, status,
    el('table', {class: 'grid instances', id: 'instance-table'},
      el('thead', {}, el('tr', {},
        el('th', {}, 'Instance id'), el('th', {}, 'Name'), el('th', {}, 'Version'), el('th', {}, 'Status'), el('th', {}, 'Created'),
        el('th', {}, 'Last updated'), el('th', {}, 'Ran for'), el('th', {}, 'Output or failure'))),
      tableBody),
    pager);

  const filters = {
    runtimeStatus: state.runtimeStatus, name: state.name, version: state.version, instanceIdPrefix: state.instanceIdPrefix,
    createdTimeFrom: state.createdTimeFrom, createdTimeTo: state.createdTimeTo,
  };

  function renderCounts(result) {
    const chips = statuses.map((s) => el('button', {
      type: 'button', class: `chip status-${s.toLowerCase()}${selected.has(s) ? ' selected' : ''}`,
      dataset: {status: s, count: result.counts[s]}, 'aria-pressed': selected.has(s) ? 'true' : 'false',
      onclick: () => {
        selected.has(s) ? selected.delete(s) : selected.add(s);
        go({runtimeStatus: statuses.filter((x) => selected.has(x)).join(','), ct: ''});
      }}, s, el('span', {class: 'chip-count'}, formatCount(result.counts[s]))));
    const all = el('button', {type: 'button', class: `chip${selected.size === 0 ? ' selected' : ''}`,
      onclick: () => go({runtimeStatus: '', ct: ''})},
      'All', el('span', {class: 'chip-count'}, `${formatCount(result.total)}${result.complete ? '' : '+'}`));
    countsBar.replaceChildren(all, ...chips);
  }

  function renderRows(page) {
    tableBody.replaceChildren(...page.instances.map((i) => {
      const ended = ['Completed', 'Failed', 'Terminated'].includes(i.runtimeStatus);
      const ran = ended ? formatDuration(parseTime(i.lastUpdatedTime) - parseTime(i.createdTime)) : '';
      const result = i.failureDetails
        ? el('span', {class: 'failure-text'}, `${i.failureDetails.errorType}: ${i.failureDetails.message}`)
        : shortPayload(i.output, 80);
      return el('tr', {dataset: {instanceId: i.instanceId, status: i.runtimeStatus}},
        el('td', {}, instanceLink(i.instanceId)), el('td', {}, i.name), versionCell(i), el('td', {}, statusBadge(i.runtimeStatus)),
        el('td', {class: 'time'}, formatTime(i.createdTime)), el('td', {class: 'time'}, formatTime(i.lastUpdatedTime)),
        el('td', {class: 'number'}, ran), el('td', {class: 'payload'}, result));
    }));
    if (page.instances.length === 0) {
      tableBody.append(el('tr', {}, el('td', {colspan: 8, class: 'empty'}, 'No instance matches these filters.')));
    }
    const buttons = [];
    if (state.ct) buttons.push(el('button', {type: 'button', onclick: () => go({ct: ''})}, 'First page'));
    if (previousTokens.length) {
      buttons.push(el('button', {type: 'button', id: 'previous-page', onclick: () => {
        const token = previousTokens.pop();
        go({ct: token}, true);
      }}, 'Previous'));
    }
    if (page.continuationToken) {
      buttons.push(el('button', {type: 'button', id: 'next-page', onclick: () => {
        previousTokens.push(state.ct);
        go({ct: page.continuationToken}, true);
      }}, 'Next page'));
    }
    pager.replaceChildren(el('span', {}, `${page.instances.length} shown`), ...buttons);
  }

  async function load() {
    try {
      const [page, counts] = await Promise.all([
        api.listInstances({...filters, top: state.top || '50', continuationToken: state.ct}),
        api.countInstances({...filters, runtimeStatus: ''}),
      ]);
      renderCounts(counts);
      renderRows(page);
      status.replaceChildren(el('span', {class: 'muted'}, `Loaded ${new Date().toISOString().slice(11, 19)} UTC`));
    } catch (error) {
      const message = error instanceof ApiError ? `${error.code}: ${error.message}` : String(error);
      status.replaceChildren(notice(`Could not load the instances: ${message}`, 'error'));
    }
  }

  let timer = null;
  const setAuto = (on) => {
    clearInterval(timer);
    timer = on ? setInterval(load, refreshMillis) : null;
  };
  autoRefresh.addEventListener('change', () => {
    state.auto = autoRefresh.checked ? '1' : '';
    // The URL records it without a reload, so the view stays as it is.
    history.replaceState(null, '', hashFor(state));
    setAuto(autoRefresh.checked);
  });
  setAuto(state.auto === '1');
  load();
  return () => clearInterval(timer);
}
