// The web view in a real browser (issue 20): a headless Chromium loads each page of /ui from a
// real node holding completed, failed, running, retried, fanned-out, very long and
// non-deterministic instances; checks what the DOM shows; terminates, raises an event, purges,
// rewinds and restarts through the page's dialogs and checks the effect through the API; saves a
// screenshot of each page.
//
//   node ui_test.mjs --node <ui_test_node> --out <dir for screenshots>
// Exit 0: passed; 1: failed; 77: skipped (no Chromium), which CTest reports as skipped.
import {spawn} from 'node:child_process';
import {mkdtempSync, mkdirSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {parseArgs} from 'node:util';
import {Browser, findChromium} from './cdp.mjs';

const {values: options} = parseArgs({options: {node: {type: 'string'}, out: {type: 'string'}}});
const viewport = {width: 1400, height: 1000};

// ---- the node ------------------------------------------------------------------------------------

function startNode(dataDir, extra = []) {
  const child = spawn(options.node, [dataDir, ...extra], {stdio: ['ignore', 'pipe', 'inherit']});
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the node did not print its port within 30 s')), 30000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /HTTP_PORT (\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({child, base: `http://127.0.0.1:${match[1]}`});
      }
    });
    child.on('exit', (code) => reject(new Error(`the node exited with ${code} before serving`)));
  });
}

function stopNode(node) {
  if (!node || node.child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => node.child.kill('SIGKILL'), 15000);
    node.child.on('exit', () => { clearTimeout(kill); resolve(); });
    node.child.kill('SIGTERM');
  });
}

async function request(base, method, path, body) {
  const response = await fetch(base + path, {method, body, signal: AbortSignal.timeout(30000),
    headers: body === undefined ? {} : {'Content-Type': 'application/json'}});
  const text = await response.text();
  return {status: response.status, body: text ? JSON.parse(text) : null};
}

async function start(base, name, id, input, version) {
  const r = await request(base, 'POST', `/api/orchestrations/${name}?instanceId=${id}${version === undefined ? '' : `&version=${version}`}`,
    input === undefined ? undefined : JSON.stringify(input));
  if (r.status !== 202) throw new Error(`starting ${name} as ${id}: ${r.status} ${JSON.stringify(r.body)}`);
}

async function until(what, check, timeoutMillis = 60000) {
  const deadline = Date.now() + timeoutMillis;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const instance = async (base, id) => (await request(base, 'GET', `/api/instances/${id}`)).body;
const historyOf = async (base, id) => (await request(base, 'GET', `/api/instances/${id}/history`)).body.events;
const statusIs = (base, id, status) => until(`${id} to be ${status}`, async () => (await instance(base, id))?.runtimeStatus === status);

// Every kind of instance the pages show.
async function seed(base) {
  for (const n of [1, 2, 3]) await start(base, 'Chain', `ui-chain-${n}`, `Tokyo ${n}`);
  await start(base, 'Fail', 'ui-failed');
  await start(base, 'WaitForApproval', 'ui-waiting-1');
  await start(base, 'WaitForApproval', 'ui-waiting-2');
  await start(base, 'WaitForApproval', 'ui-waiting-3');
  await start(base, 'FanOut', 'ui-fanout', 1000);
  await start(base, 'Rounds', 'ui-big', 5000);
  await start(base, 'Showcase', 'ui-showcase', 'Ada');
  await start(base, 'Drifting', 'ui-drift');
  await start(base, 'Order', 'ui-order', 'Ada');  // the latest version, 2, whose Charge fails until the fix
  await start(base, 'Order', 'ui-order-v1', 'Bob', 1);
  await until('Showcase to wait for its approval', async () =>
    (await instance(base, 'ui-showcase')).customStatus?.stage === 'waiting for approval');
  await request(base, 'POST', '/api/instances/ui-showcase/raiseEvent/Approval', 'true');
  for (const id of ['ui-chain-1', 'ui-chain-2', 'ui-chain-3', 'ui-fanout', 'ui-big', 'ui-showcase']) await statusIs(base, id, 'Completed');
  await statusIs(base, 'ui-failed', 'Failed');
  await statusIs(base, 'ui-order', 'Failed');
  await statusIs(base, 'ui-order-v1', 'Completed');
  await until('Drifting to wait for Go', async () => (await historyOf(base, 'ui-drift')).some((e) => e.kind === 'TaskCompleted'));
}

// ---- the checks ----------------------------------------------------------------------------------

let failures = 0;
function check(condition, what) {
  console.log(`${condition ? 'ok  ' : 'FAIL'} ${what}`);
  if (!condition) failures += 1;
}

async function main() {
  const chromium = findChromium();
  if (!chromium) {
    console.log('SKIP: no Chromium found (install Debian\'s chromium: scripts/install-deps.sh), the web view is not tested');
    return 77;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'perdure-ui-node-'));
  mkdirSync(options.out, {recursive: true});
  let node;
  let tokenNode;
  let browser;
  try {
    node = await startNode(dataDir);
    let seeded = Date.now();
    await seed(node.base);
    console.log(`seeded the node in ${Date.now() - seeded} ms`);
    // The code of "Drifting" changes under its running instance: its replay no longer matches.
    await stopNode(node);
    node = await startNode(dataDir, ['--drift']);
    const base = node.base;
    await request(base, 'POST', '/api/instances/ui-drift/raiseEvent/Go', '1');
    await until('ui-drift to report non-determinism', async () =>
      (await instance(base, 'ui-drift')).failureDetails?.errorType === 'NonDeterminismError');
    const bigHistory = await historyOf(base, 'ui-big');
    check(bigHistory.length >= 10000, `ui-big has a history of at least 10,000 events (${bigHistory.length})`);

    browser = await Browser.launch(chromium, viewport);
    const pageErrors = [];
    const elsewhere = [];
    browser.on('Runtime.exceptionThrown', (p) => pageErrors.push(p.exceptionDetails.exception?.description || p.exceptionDetails.text));
    browser.on('Runtime.consoleAPICalled', (p) => { if (p.type === 'error') pageErrors.push(p.args.map((a) => a.value ?? a.description).join(' ')); });
    browser.on('Network.requestWillBeSent', (p) => {
      if (!p.request.url.startsWith(base) && !p.request.url.startsWith('data:')) elsewhere.push(p.request.url);
    });
    const shot = async (name) => writeFileSync(join(options.out, `${name}.png`), await browser.screenshot());
    // Each view is opened as a fresh page load: a hash change alone would leave the previous view
    // in the DOM until the new one renders, and `ready` could be met by it.
    const open = async (hash, ready, what) => {
      await browser.navigate('about:blank');
      await browser.waitFor(`location.href === 'about:blank'`, 'an empty page');
      const began = Date.now();
      await browser.navigate(`${base}/ui${hash}`);
      await browser.waitFor(ready, what);
      return Date.now() - began;
    };
    const rows = (selector) => browser.evaluate(`document.querySelectorAll(${JSON.stringify(selector)}).length`);
    const text = (selector) => browser.evaluate(`document.querySelector(${JSON.stringify(selector)})?.textContent ?? null`);

    // The list: every instance, counts by status, filters in the URL, pages.
    const everything = (await request(base, 'GET', '/api/instances?top=1000')).body.instances;
    await open('#/instances', `document.querySelectorAll('#instance-table tbody tr[data-instance-id]').length > 0 && document.querySelector('#status-counts .chip')`, 'the instance list');
    check(await rows('#instance-table tbody tr[data-instance-id]') === everything.length, `the list shows all ${everything.length} instances`);
    check(await browser.evaluate(`document.querySelector('#status-counts [data-status=Completed]').dataset.count`) ===
      String(everything.filter((i) => i.runtimeStatus === 'Completed').length), 'the Completed chip counts the completed instances');
    check(await rows('#instance-table a[href="#/instance/ui-failed"]') === 1, 'the list links to ui-failed');

    await open('#/instances?runtimeStatus=Failed', `document.querySelector('#status-counts [data-status=Failed].selected') && document.querySelectorAll('#instance-table tbody tr[data-status]').length > 0`, 'the Failed filter');
    check(await browser.evaluate(`[...document.querySelectorAll('#instance-table tbody tr[data-status]')].every((r) => r.dataset.status === 'Failed')`), 'the status filter from the URL shows only failed instances');
    await browser.evaluate(`document.querySelector('#status-counts [data-status=Running]').click()`);
    await browser.waitFor(`location.hash.includes('runtimeStatus=Running%2CFailed') || location.hash.includes('runtimeStatus=Failed%2CRunning') || location.hash.includes('Running,Failed')`, 'the Running chip to join the filter in the URL');
    await browser.waitFor(`[...document.querySelectorAll('#instance-table tbody tr[data-status]')].some((r) => r.dataset.status === 'Running')`, 'running rows');

    await open('#/instances?top=25&instanceIdPrefix=ui-chain', `document.querySelectorAll('#instance-table tbody tr[data-instance-id]').length === 3`, 'the id prefix filter');
    check(true, 'the id prefix filter from the URL shows the three chains');
    await open('#/instances?top=25&name=Chain', `document.querySelectorAll('#instance-table tbody tr[data-instance-id]').length === 4`, 'the name filter (three chains and the showcase\'s child)');
    check(true, 'the name filter from the URL shows the four Chain instances');

    await open('#/instances?top=25', `document.querySelector('#next-page') || document.querySelectorAll('#instance-table tbody tr[data-instance-id]').length === ${everything.length}`, 'a first page');
    if (everything.length > 25) {
      const firstPage = await browser.evaluate(`document.querySelector('#instance-table tbody tr').dataset.instanceId`);
      await browser.evaluate(`document.querySelector('#next-page').click()`);
      await browser.waitFor(`location.hash.includes('ct=') && document.querySelector('#instance-table tbody tr')?.dataset.instanceId !== ${JSON.stringify(firstPage)}`, 'the second page');
      check(await rows('#previous-page') === 1, 'the second page has a Previous button');
    } else {
      // Three pages of two instances each, through the API's continuation tokens.
      await open('#/instances?top=2', `document.querySelector('#next-page')`, 'a first page of two');
      const seen = new Set();
      for (let page = 0; page < 3; page++) {
        for (const id of await browser.evaluate(`[...document.querySelectorAll('#instance-table tbody tr')].map((r) => r.dataset.instanceId)`)) seen.add(id);
        await browser.evaluate(`document.querySelector('#next-page').click()`);
        await browser.waitFor(`location.hash.includes('ct=') && document.querySelectorAll('#instance-table tbody tr').length > 0 && ![${[...seen].map((s) => JSON.stringify(s)).join(',')}].includes(document.querySelector('#instance-table tbody tr').dataset.instanceId)`, `page ${page + 2}`);
      }
      check(seen.size === 6, `three pages of two show six different instances (${seen.size})`);
      check(await rows('#previous-page') === 1, 'a later page has a Previous button');
    }

    // An instance with a bit of everything: sub-orchestration, retries, timer, event.
    await open('#/instance/ui-showcase', `document.querySelector('#timeline')`, 'the showcase instance');
    const timeline = await browser.evaluate(`({...document.querySelector('#timeline').dataset})`);
    check(Number(timeline.failedBars) === 2, `the two failed attempts of the retried call are red bars (${timeline.failedBars})`);
    check((await text('#timeline')).includes('(3 attempts)'), 'the retried call shows its three attempts on one row');
    check(await rows('#timeline a.child-link[href="#/instance/showcase-child"]') === 1, 'the sub-orchestration links to its child');
    check((await text('#timeline')).includes('event Approval'), 'the event wait has a row');
    check((await text('#instance-output')).includes('approved'), 'the output is shown');
    check((await text('#instance-custom-status')).includes('waiting for approval'), 'the custom status is shown');
    check(await rows('#history-events .event-row') > 5, 'the event table shows the history');
    await shot('instance-showcase');
    await browser.evaluate(`document.querySelector('#timeline a.child-link').click()`);
    await browser.waitFor(`location.hash === '#/instance/showcase-child' && document.querySelector('.facts a[href="#/instance/ui-showcase"]')`, 'the child instance with a link to its parent');
    check(true, 'the child link opens the child, which links back to its parent');

    // A failure.
    await open('#/instance/ui-failed', `document.querySelector('#failure-details')`, 'the failed instance');
    check((await text('#failure-details')).includes('the card was declined'), 'the failure details are shown');
    check(Number(await browser.evaluate(`document.querySelector('#timeline').dataset.failedBars`)) === 1, 'the failed activity is a red bar');
    // A real mouse click on the bar (its start, on the first row) shows the event that scheduled it.
    const bar = await browser.evaluate(`(() => {
      const canvas = document.querySelector('.timeline-bars');
      canvas.scrollIntoView({block: 'center'});
      const box = canvas.getBoundingClientRect();
      return {x: box.left + 241, y: box.top + 11};
    })()`);
    for (const type of ['mouseMoved', 'mousePressed', 'mouseReleased']) {
      await browser.page('Input.dispatchMouseEvent', {type, x: bar.x, y: bar.y, button: 'left', clickCount: 1});
    }
    const scheduledAt = (await historyOf(base, 'ui-failed')).find((e) => e.kind === 'TaskScheduled').index;
    await browser.waitFor(`document.querySelector('#history-events .event-row.highlighted')?.dataset.index === '${scheduledAt}'`, 'the clicked bar\'s event highlighted');
    check(true, 'a click on a bar highlights the event that scheduled it');

    // Non-determinism.
    await open('#/instance/ui-drift', `document.querySelector('#failure-details.nondeterminism')`, 'the non-determinism report');
    check((await text('#failure-details h3')) === 'Non-determinism report', 'the non-determinism report is titled as such');
    check((await text('#timeline')).includes('stalled'), 'the timeline shows the instance stalled, not waiting');
    await browser.evaluate(`document.querySelector('#show-mismatch').click()`);
    await browser.waitFor(`document.querySelector('#history-events .event-row.highlighted')`, 'the mismatching event highlighted');
    check(true, 'the report scrolls the event table to the event that no longer matches');
    await shot('instance-nondeterminism');

    // The fan-out of 1,000 and the history of 10,000 events: load time printed, never asserted.
    const fanOutMillis = await open('#/instance/ui-fanout', `document.querySelector('#timeline') && document.querySelector('#view').dataset.loadMillis`, 'the fan-out');
    check(Number(await browser.evaluate(`document.querySelector('#timeline').dataset.rows`)) === 1000, 'the fan-out has a row per call');
    check(await rows('#timeline .timeline-label') < 60, 'only the rows in view are DOM elements');
    check(await rows('#timeline .timeline-overview') === 1, 'rows that do not fit in view get an overview strip');
    console.log(`load time: fan-out of 1,000 calls: ${fanOutMillis} ms to a drawn page (the page's own measure: ${await browser.evaluate(`document.querySelector('#view').dataset.loadMillis`)} ms)`);
    await browser.evaluate(`(() => { const s = document.querySelector('.timeline-scroller'); s.scrollTop = s.scrollHeight; })()`);
    await browser.waitFor(`[...document.querySelectorAll('#timeline .timeline-label')].some((l) => l.textContent === 'Square #999')`, 'the last rows after scrolling');
    await shot('instance-fanout');

    const bigMillis = await open('#/instance/ui-big', `document.querySelector('#timeline') && document.querySelector('#view').dataset.loadMillis`, 'the long history');
    console.log(`load time: history of ${bigHistory.length} events: ${bigMillis} ms to a drawn page (the page's own measure: ${await browser.evaluate(`document.querySelector('#view').dataset.loadMillis`)} ms)`);
    check(await rows('#history-events .event-row') < 60, 'the event table keeps only the rows in view in the DOM');
    await browser.evaluate(`(() => { const s = document.querySelector('#event-rows'); s.scrollTop = s.scrollHeight; })()`);
    await browser.waitFor(`document.querySelector('#history-events .event-row[data-index="${bigHistory.length - 1}"]')`, 'the last event after scrolling');
    const responsive = Date.now();
    await browser.evaluate('1');
    console.log(`the page answers ${Date.now() - responsive} ms after scrolling to event ${bigHistory.length - 1}`);
    check(true, 'scrolling to the end of the event table shows the last event');

    // Actions, each through its confirmation dialog, checked through the API.
    const confirm = async (action, fields = {}) => {
      await browser.evaluate(`document.querySelector('[data-action=${action}]').click()`);
      await browser.waitFor(`document.querySelector('#confirm-dialog').open`, `the ${action} dialog`);
      for (const [name, value] of Object.entries(fields)) {
        await browser.evaluate(`document.querySelector('#confirm-dialog [name=${name}]').value = ${JSON.stringify(value)}`);
      }
      await browser.evaluate(`document.querySelector('#dialog-confirm').click()`);
    };
    await open('#/instance/ui-waiting-1', `document.querySelector('[data-action=terminate]')`, 'a running instance');
    await browser.evaluate(`document.querySelector('[data-action=terminate]').click()`);
    await browser.waitFor(`document.querySelector('#confirm-dialog').open`, 'the terminate dialog');
    await shot('terminate-dialog');
    await browser.evaluate(`document.querySelector('#dialog-cancel').click()`);
    check((await instance(base, 'ui-waiting-1')).runtimeStatus === 'Running', 'Cancel leaves the instance running');
    await confirm('terminate', {reason: 'stopped from the web view'});
    await browser.waitFor(`document.querySelector('.page-head .badge')?.textContent === 'Terminated'`, 'the page to show Terminated');
    const terminated = await instance(base, 'ui-waiting-1');
    check(terminated.runtimeStatus === 'Terminated', 'terminate in the page terminated the instance (API)');
    check((await historyOf(base, 'ui-waiting-1')).some((e) => e.kind === 'ExecutionTerminated' && e.reason === 'stopped from the web view'),
      'the reason typed in the dialog is in the history');

    await open('#/instance/ui-waiting-2', `document.querySelector('[data-action=raise-event]')`, 'another running instance');
    check((await text('#timeline')).includes('waiting for an event'), 'a running instance with nothing scheduled shows its wait');
    await confirm('raise-event', {name: 'Approval', data: 'true'});
    await statusIs(base, 'ui-waiting-2', 'Completed');
    check((await instance(base, 'ui-waiting-2')).output === 'approved', 'the event raised in the page completed the instance with its data (API)');

    await open('#/instance/ui-chain-3', `document.querySelector('[data-action=purge]')`, 'a completed instance');
    await confirm('purge');
    await browser.waitFor(`location.hash.startsWith('#/instances')`, 'the list after the purge');
    check((await request(base, 'GET', '/api/instances/ui-chain-3')).status === 404, 'purge in the page deleted the instance (API)');

    // An instance page with auto-refresh on (from its URL) follows the instance without a click.
    await open('#/instance/ui-waiting-3?auto=1', `document.querySelector('#auto-refresh')?.checked && document.querySelector('.page-head .badge')?.textContent === 'Running'`, 'a running instance with auto-refresh');
    await request(base, 'POST', '/api/instances/ui-waiting-3/raiseEvent/Approval', 'false');
    await browser.waitFor(`document.querySelector('.page-head .badge')?.textContent === 'Completed' && document.querySelector('#auto-refresh').checked`, 'the page to refresh itself to Completed', 15000);
    check(true, 'auto-refresh shows the instance complete, and stays on');

    // Versions and patches; a rewind of the failed order once the fix is deployed (the node runs
    // with --drift, its second deploy); a restart from a prefix of a history.
    await open('#/instances?top=1000', `document.querySelector('#instance-table tr[data-instance-id="ui-order"] td.version')`, 'the list with versions');
    check(await text('#instance-table tr[data-instance-id="ui-order"] td.version') === '2', 'the list shows the version an instance runs (2)');
    check(await text('#instance-table tr[data-instance-id="ui-order-v1"] td.version') === '1', 'the list shows the version an instance runs (1)');
    check(await text('#instance-table tr[data-instance-id="ui-chain-1"] td.version') === '-', 'the list shows no version for an unversioned instance');
    await shot('instance-list');
    await open('#/instances?version=1', `document.querySelectorAll('#instance-table tbody tr[data-instance-id]').length === 1 && document.querySelector('#status-counts .chip')`, 'the version filter');
    check(await browser.evaluate(`document.querySelector('#instance-table tbody tr[data-instance-id]').dataset.instanceId`) === 'ui-order-v1' &&
      await browser.evaluate(`document.querySelector('#filters [name=version]').value`) === '1', 'the version filter from the URL shows the one instance on version 1');
    check(await browser.evaluate(`document.querySelector('#status-counts [data-status=Completed]').dataset.count`) === '1', 'the counts by status follow the version filter');
    await open('#/instance/ui-order', `document.querySelector('[data-action=rewind]')`, 'the failed order');
    check((await text('#instance-version')).startsWith('2'), 'the instance page shows the version');
    check(await text('#instance-patches') === 'send-sms', 'the instance page shows the patch its history recorded');
    check(await rows('[data-action=restart]') === 1, 'a failed instance can also be restarted');
    await confirm('rewind', {reason: 'Charge fixed in the second deploy'});
    await statusIs(base, 'ui-order', 'Completed');
    check((await instance(base, 'ui-order')).output === 'charged Ada', 'the rewound instance completed with the fixed Charge (API)');
    const rewound = await historyOf(base, 'ui-order');
    check(rewound.some((e) => e.kind === 'ExecutionRewound' && e.reason === 'Charge fixed in the second deploy'),
      'the rewind and its reason are in the history (API)');
    check(rewound.filter((e) => e.superseded).map((e) => e.kind).sort().join() === 'ExecutionFailed,TaskFailed',
      'the rewind superseded the failed Charge and the failure (API)');
    check(rewound.filter((e) => e.kind === 'TaskScheduled').length === 2, 'the steps that succeeded were not scheduled again (API)');
    await open('#/instance/ui-order', `document.querySelector('.page-head .badge')?.textContent === 'Completed' && document.querySelector('#timeline')`, 'the rewound order');
    const rewoundChart = await browser.evaluate(`({...document.querySelector('#timeline').dataset})`);
    check(rewoundChart.supersededBars === '1' && rewoundChart.failedBars === '0', `the superseded attempt is drawn as such, not failed (${JSON.stringify(rewoundChart)})`);
    check(rewoundChart.markers === '1' && (await text('.timeline-markers')).includes('Charge fixed'), 'the timeline marks the rewind');
    check(await rows('#history-events .event-row.superseded') === 2, 'the event table marks the two superseded events');
    check((await text('#history-events .event-row.client-action'))?.includes('Charge fixed'), 'the event table shows the rewind and its reason');
    check((await text('#instance-rewinds')).includes('1 time'), 'the instance page says it was rewound');
    await shot('instance-rewound');

    await open('#/instance/ui-order-v1', `document.querySelector('[data-action=restart]')`, 'a completed order');
    check(await rows('[data-action=rewind]') === 0, 'only a failed instance offers a rewind');
    const before = await instance(base, 'ui-order-v1');
    const secondEpisode = (await historyOf(base, 'ui-order-v1')).filter((e) => e.kind === 'EpisodeStarted')[1].index;
    await browser.evaluate(`document.querySelector('[data-action=restart]').click()`);
    await browser.waitFor(`document.querySelector('#confirm-dialog').open`, 'the restart dialog');
    await browser.evaluate(`document.querySelector('#confirm-dialog [name=fromEvent]').value = 'two'`);
    await browser.evaluate(`document.querySelector('#dialog-confirm').click()`);
    check((await text('.dialog-problem')).includes('whole number'), 'the restart dialog refuses a position that is not a number');
    await browser.evaluate(`document.querySelector('#dialog-cancel').click()`);
    await confirm('restart', {fromEvent: String(secondEpisode), version: '1'});
    const after = await until('ui-order-v1 to complete a new execution', async () => {
      const now = await instance(base, 'ui-order-v1');
      return now.executionId !== before.executionId && now.runtimeStatus === 'Completed' ? now : null;
    });
    const restarted = (await historyOf(base, 'ui-order-v1')).find((e) => e.kind === 'ExecutionRestarted');
    check(restarted?.fromEvent === secondEpisode && restarted.previousExecutionId === before.executionId && restarted.version === 1,
      `the restart from event ${secondEpisode} on version 1 is in the new execution's history (API: ${JSON.stringify(restarted)})`);
    check(after.output === before.output, 'the restarted execution completed as the first (API)');
    await open('#/instance/ui-order-v1', `document.querySelector('#instance-restarted')`, 'the restarted order');
    check((await text('#instance-restarted')).includes(`from event ${secondEpisode}`), 'the instance page says where it was restarted from');

    // The cluster page of a single node.
    await open('#/cluster', `document.querySelector('#node-counters tbody tr')`, 'the cluster page');
    check((await text('#cluster')).includes('SingleNode'), 'the cluster page says the node runs alone');
    check(await rows('#node-counters tbody tr') >= 5, 'the cluster page shows this node\'s counters');
    check(await rows('#node-instances tbody tr') === 7, 'the cluster page shows this node\'s instances by status');
    await shot('cluster');

    // What the server sends with the files.
    const page = await fetch(`${base}/ui`);
    check(page.headers.get('content-type') === 'text/html; charset=utf-8', 'the page is served as HTML');
    const script = await fetch(`${base}/ui/app.js`);
    check(script.headers.get('content-type') === 'text/javascript; charset=utf-8', 'scripts are served as JavaScript');
    const again = await fetch(`${base}/ui/app.js`, {headers: {'If-None-Match': script.headers.get('etag')}});
    check(again.status === 304, 'a file not changed since is answered 304 by its ETag');
    check((await fetch(`${base}/ui/nothing.js`)).status === 404, 'an unknown file is a 404');

    check(elsewhere.length === 0, `no request left the node (${elsewhere.slice(0, 3).join(', ')})`);
    check(pageErrors.length === 0, `no error in the page (${pageErrors.slice(0, 3).join(' | ')})`);

    // A node with API tokens: the page asks for one at the first 401, keeps it for the tab, and a
    // page load after that asks no more.
    const adminToken = 'ui-admin-token-0123456789';
    const readToken = 'ui-read-token-0123456789';
    writeFileSync(join(dataDir, 'tokens'), `admin ${adminToken}\nread ${readToken}\n`);
    tokenNode = await startNode(join(dataDir, 'token-node'), ['--api-token-file', join(dataDir, 'tokens')]);
    const started = await fetch(`${tokenNode.base}/api/orchestrations/Chain?instanceId=ui-token`, {method: 'POST',
      body: '"Kyoto"', headers: {'Content-Type': 'application/json', Authorization: `Bearer ${adminToken}`}});
    check(started.status === 202, `an admin token starts an instance on the node with tokens (${started.status})`);
    const prompts = [];
    browser.on('Page.javascriptDialogOpening', (p) => {
      prompts.push(p.message);
      browser.page('Page.handleJavaScriptDialog', {accept: true, promptText: readToken});
    });
    await browser.navigate('about:blank');
    await browser.waitFor(`location.href === 'about:blank'`, 'an empty page');
    await browser.navigate(`${tokenNode.base}/ui#/instances`);
    await browser.waitFor(`document.querySelector('#instance-table tr[data-instance-id="ui-token"]')`, 'the list on the node with tokens');
    check(prompts.length === 1 && prompts[0].includes('needs an API token'), `the page asked once for a token (${JSON.stringify(prompts)})`);
    await browser.navigate(`${tokenNode.base}/ui#/instance/ui-token`);
    await browser.waitFor(`document.querySelector('#timeline')`, 'an instance page on the node with tokens');
    check(prompts.length === 1, 'the token is kept for the tab: no second prompt');
    console.log(`screenshots in ${options.out}`);
  } finally {
    if (browser) await browser.close().catch((error) => console.error(`closing chromium: ${error}`));
    await stopNode(node);
    await stopNode(tokenNode);
    rmSync(dataDir, {recursive: true, force: true});
  }
  return failures === 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (error) => {
  console.error(`FAIL ${error.stack || error}`);
  process.exit(1);
});
