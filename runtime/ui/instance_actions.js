// The actions on one instance (raise event, suspend, resume, terminate, rewind, restart, purge):
// each asks for confirmation, then calls the management API and reports what it answered.
import {api, ApiError} from './api.js';
import {el} from './dom.js';
import {confirmAction} from './dialog.js';

const running = ['Pending', 'Running', 'Suspended'];

function jsonProblem(text) {
  if (!text.trim()) return '';
  try {
    JSON.parse(text);
    return '';
  } catch (error) {
    return `The data is not JSON: ${error.message}`;
  }
}

const reasonField = {name: 'reason', label: 'Reason (recorded in the history)', placeholder: 'optional'};

// A restart's optional whole number: empty, or digits.
function numberProblem(text, what) {
  return !text.trim() || /^\d+$/.test(text.trim()) ? '' : `${what} must be a whole number (or empty).`;
}

function actionsFor(instance) {
  const id = instance.instanceId;
  const actions = [];
  if (running.includes(instance.runtimeStatus)) {
    actions.push({id: 'raise-event', label: 'Raise event', dialog: {
      title: 'Raise an event', confirmLabel: 'Raise event',
      message: `Delivers an event to ${id}; it waits in its buffer until the orchestration waits for that name.`,
      fields: [{name: 'name', label: 'Event name', placeholder: 'Approval'},
               {name: 'data', label: 'Data (JSON, empty for none)', placeholder: 'true', multiline: true}],
      validate: (v) => (!v.name.trim() ? 'An event needs a name.' : jsonProblem(v.data)),
    }, run: (v) => api.raiseEvent(id, v.name.trim(), v.data.trim() || undefined)});
  }
  if (['Pending', 'Running'].includes(instance.runtimeStatus)) {
    actions.push({id: 'suspend', label: 'Suspend', dialog: {
      title: 'Suspend the instance', confirmLabel: 'Suspend', fields: [reasonField],
      message: `${id} stops taking steps until it is resumed; events sent meanwhile are kept.`,
    }, run: (v) => api.command(id, 'suspend', v.reason)});
  }
  if (instance.runtimeStatus === 'Suspended') {
    actions.push({id: 'resume', label: 'Resume', dialog: {
      title: 'Resume the instance', confirmLabel: 'Resume', fields: [reasonField],
      message: `${id} goes on from where it was suspended.`,
    }, run: (v) => api.command(id, 'resume', v.reason)});
  }
  if (running.includes(instance.runtimeStatus)) {
    actions.push({id: 'terminate', label: 'Terminate', danger: true, dialog: {
      title: 'Terminate the instance', confirmLabel: 'Terminate', danger: true, fields: [reasonField],
      message: `${id} ends now as Terminated. Activities under way finish, but the orchestration takes no further step. This cannot be undone.`,
    }, run: (v) => api.command(id, 'terminate', v.reason)});
  } else {
    if (instance.runtimeStatus === 'Failed') {
      actions.push({id: 'rewind', label: 'Rewind', dialog: {
        title: 'Rewind the instance', confirmLabel: 'Rewind', fields: [reasonField],
        message: `${id} continues its execution from just before the steps that failed it, which run again ` +
          '(deploy the fix first); the steps that succeeded do not. The history keeps the failure, superseded.',
      }, run: (v) => api.command(id, 'rewind', v.reason)});
    }
    actions.push({id: 'restart', label: 'Restart', dialog: {
      title: 'Restart the instance', confirmLabel: 'Restart',
      message: `${id} runs again as a new execution with the same input. From event N: the first N events ` +
        'of its history are kept and replayed, the steps after them run again (N must be the index of an ' +
        'EpisodeStarted). The current history is replaced.',
      fields: [{name: 'fromEvent', label: 'From event (empty: from the start)', placeholder: 'e.g. 6'},
               {name: 'version', label: `Version (empty: ${instance.version ?? 0}, the one it ran)`, placeholder: 'e.g. 2'}],
      validate: (v) => numberProblem(v.fromEvent, 'From event') || numberProblem(v.version, 'The version'),
    }, run: (v) => api.restart(id, v.fromEvent.trim(), v.version.trim())});
    actions.push({id: 'purge', label: 'Purge', danger: true, dialog: {
      title: 'Purge the instance', confirmLabel: 'Purge', danger: true,
      message: `Deletes ${id} and its whole history from the store. This cannot be undone.`,
    }, run: () => api.purge(id), purges: true});
  }
  return actions;
}

/// The action buttons for `instance`; `done(purged)` runs after an action succeeded.
export function actionBar(instance, report, done) {
  return el('div', {class: 'actions', id: 'instance-actions'}, ...actionsFor(instance).map((action) =>
    el('button', {type: 'button', class: action.danger ? 'danger' : '', dataset: {action: action.id},
      onclick: async () => {
        const values = await confirmAction(action.dialog);
        if (!values) return;
        try {
          await action.run(values);
          report(`${action.label}: done.`, 'ok');
          done(Boolean(action.purges));
        } catch (error) {
          const text = error instanceof ApiError ? `${error.code}: ${error.message}` : String(error);
          report(`${action.label} failed: ${text}`, 'error');
        }
      }}, action.label)));
}
