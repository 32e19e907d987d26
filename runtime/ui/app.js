// The page's router: the view and its parameters live after '#' (#/instances?runtimeStatus=...,
// #/instance/<id>, #/cluster), so a view can be bookmarked and shared, and the node serves one page.
import {renderInstanceList} from './instance_list.js';
import {renderInstancePage} from './instance_page.js';
import {renderClusterPage} from './cluster_page.js';

const view = document.getElementById('view');
let leaveView = () => {};  // what the current view stops (its refresh timer) when the route changes

function parseRoute() {
  const hash = location.hash.replace(/^#\/?/, '');
  const queryAt = hash.indexOf('?');
  const path = queryAt < 0 ? hash : hash.slice(0, queryAt);
  const params = new URLSearchParams(queryAt < 0 ? '' : hash.slice(queryAt + 1));
  const [page, ...rest] = path.split('/');
  return {page: page || 'instances', argument: rest.length ? decodeURIComponent(rest.join('/')) : '', params};
}

function show() {
  leaveView();
  leaveView = () => {};
  const route = parseRoute();
  for (const link of document.querySelectorAll('[data-nav]')) {
    link.classList.toggle('active', link.dataset.nav === (route.page === 'instance' ? 'instances' : route.page));
  }
  view.replaceChildren();
  const render = {instances: renderInstanceList, instance: renderInstancePage, cluster: renderClusterPage}[route.page];
  if (!render) {
    view.textContent = 'No such page.';
    return;
  }
  leaveView = render(view, route.argument, route.params);
}

window.addEventListener('hashchange', show);
show();
