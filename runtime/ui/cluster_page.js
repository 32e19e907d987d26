// The cluster: its members and whether this node reaches them, each reachable node's counters,
// who owns each partition (GET /api/cluster), and this node's own counters (GET /metrics).
import {api, ApiError} from './api.js';
import {el, clear, notice, statusBadge} from './dom.js';
import {formatCount} from './format.js';

const refreshMillis = 5000;

// This node's metrics worth a glance, in the order shown; histograms and per-label families are
// left to a metrics system.
const nodeCounters = [
  ['perdure_episodes_total', 'Episodes run'],
  ['perdure_commits_total', 'Storage batches committed'],
  ['perdure_activities_started_total', 'Activities started'],
  ['perdure_activities_completed_total', 'Activities completed'],
  ['perdure_activities_failed_total', 'Activities failed'],
  ['perdure_activity_queue_depth', 'Activities queued'],
  ['perdure_timers_fired_total', 'Timers fired'],
  ['perdure_failed_partitions', 'Partitions stopped by a storage failure'],
  ['perdure_http_waiting_requests', 'HTTP requests waiting for an instance'],
  ['perdure_cluster_members_up', 'Other members reached'],
  ['perdure_cluster_messages_out_total', 'Node-to-node messages sent'],
  ['perdure_cluster_messages_in_total', 'Node-to-node messages received'],
  ['perdure_cluster_takeovers_total', 'Partition takeovers'],
];

/// Prometheus text → {name or name{labels}: value}, samples only.
function parseMetrics(text) {
  const samples = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples[line.slice(0, space)] = Number(line.slice(space + 1));
  }
  return samples;
}

function table(id, headers, rows) {
  return el('table', {class: 'grid', id},
    el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', {}, h)))),
    el('tbody', {}, ...rows.map((cells) => el('tr', {}, ...cells.map((c) => el('td', {}, c))))));
}

function card(label, value) {
  return el('div', {class: 'card'}, el('div', {class: 'card-value'}, value), el('div', {class: 'card-label'}, label));
}

function render(content, cluster, metrics) {
  const samples = parseMetrics(metrics);
  const single = cluster.status === 'SingleNode';
  const byStatus = Object.entries(samples).filter(([name]) => name.startsWith('perdure_instances{'))
    .map(([name, value]) => [/status="([^"]+)"/.exec(name)[1], value]);
  const sections = [
    el('div', {class: 'cards'},
      card('Cluster', statusBadge(cluster.status)),
      card('Members', single ? '1 (this node)' : `${cluster.members.filter((m) => m.reachable).length} of ${cluster.members.length} reached`),
      card('Partitions', single ? '-' : formatCount(cluster.partitions.length)),
      card('Replicated logs', cluster.replicated ? 'yes (NATS JetStream)' : 'no')),
  ];
  if (single) {
    sections.push(el('p', {class: 'muted'}, 'This node runs alone: it owns every partition, and its counters are below.'));
  } else {
    const countersOf = new Map((cluster.nodes || []).map((n) => [n.nodeId, n]));
    sections.push(el('h2', {}, 'Members'), table('cluster-members',
      ['Node', 'Reached', 'Partitions led', 'Episodes', 'Activities run', 'Leased out', 'Re-dispatched', 'Rejected', 'Messages out', 'Messages in'],
      cluster.members.map((m) => {
        const n = countersOf.get(m.nodeId);
        const value = (field) => (n ? formatCount(n[field]) : '-');
        return [el('strong', {}, m.nodeId + (m.nodeId === cluster.nodeId ? ' (this node)' : '')),
          statusBadge(m.reachable ? 'Reachable' : 'Unreachable'), value('partitionsOwned'), value('episodes'),
          value('activitiesExecuted'), value('activitiesLeasedOut'), value('activitiesRedispatched'),
          value('activitiesRejected'), value('messagesOut'), value('messagesIn')];
      })));
    sections.push(el('h2', {}, 'Partitions'), el('p', {class: 'muted'}, `As ${cluster.nodeId} sees them.`),
      table('cluster-partitions', ['Partition', 'Owner', 'Epoch', 'Followers', 'Led here'],
        cluster.partitions.map((p) => [String(p.partition), p.owner ?? el('em', {}, 'unassigned'), String(p.epoch),
          p.followers.join(', ') || '-', p.ledHere ? 'yes' : 'no'])));
  }
  sections.push(el('h2', {}, 'This node'),
    el('div', {class: 'two-columns'},
      table('node-instances', ['Instances held', 'Count'], byStatus.map(([s, v]) => [statusBadge(s), formatCount(v)])),
      table('node-counters', ['Counter', 'Value'], nodeCounters.filter(([name]) => name in samples)
        .map(([name, label]) => [el('span', {title: name}, label), formatCount(samples[name])]))));
  content.replaceChildren(...sections);
}

export function renderClusterPage(view) {
  const content = el('div', {id: 'cluster'}, notice('Loading…'));
  const autoRefresh = el('input', {type: 'checkbox'});
  clear(view).append(
    el('div', {class: 'page-head'}, el('h1', {}, 'Cluster'), el('label', {class: 'toggle'}, autoRefresh, 'Auto-refresh (5 s)')),
    content);
  async function load() {
    try {
      const [cluster, metrics] = await Promise.all([api.cluster(), api.metrics()]);
      render(content, cluster, metrics);
    } catch (error) {
      content.replaceChildren(notice(`Could not load the cluster view: ${error instanceof ApiError ? `${error.code}: ${error.message}` : error}`, 'error'));
    }
  }
  let timer = null;
  autoRefresh.addEventListener('change', () => {
    clearInterval(timer);
    timer = autoRefresh.checked ? setInterval(load, refreshMillis) : null;
  });
  load();
  return () => clearInterval(timer);
}
