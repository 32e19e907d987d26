// The confirmation every action asks for, as a modal <dialog>: what will happen, the inputs it
// needs (an event's name and data, a reason), Cancel or the action.
import {el} from './dom.js';

/// Resolves to the fields' values by name when confirmed, null when cancelled. `validate` may
/// return a message that keeps the dialog open.
export function confirmAction({title, message, fields = [], confirmLabel, danger = false, validate}) {
  const dialog = document.getElementById('confirm-dialog');
  const inputs = fields.map((f) => {
    const input = f.multiline
      ? el('textarea', {name: f.name, rows: 4, placeholder: f.placeholder || ''})
      : el('input', {type: 'text', name: f.name, placeholder: f.placeholder || ''});
    input.value = f.value || '';
    return input;
  });
  const problem = el('p', {class: 'dialog-problem', role: 'alert'});
  const confirm = el('button', {type: 'submit', class: danger ? 'danger' : 'primary', id: 'dialog-confirm'}, confirmLabel);
  const cancel = el('button', {type: 'button', id: 'dialog-cancel'}, 'Cancel');
  const form = el('form', {method: 'dialog'},
    el('h2', {}, title), el('p', {}, message),
    ...fields.map((f, i) => el('label', {class: 'dialog-field'}, f.label, inputs[i])),
    problem,
    el('div', {class: 'dialog-buttons'}, cancel, confirm));
  dialog.replaceChildren(form);
  return new Promise((resolve) => {
    const values = () => Object.fromEntries(fields.map((f, i) => [f.name, inputs[i].value]));
    const finish = (result) => {
      dialog.close();
      resolve(result);
    };
    cancel.addEventListener('click', () => finish(null));
    dialog.oncancel = () => resolve(null);  // Escape; a property, so that dialogs shown before leave no listener
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const message = validate ? validate(values()) : '';
      if (message) {
        problem.textContent = message;
        return;
      }
      finish(values());
    });
    dialog.showModal();
    (inputs[0] || confirm).focus();
  });
}
