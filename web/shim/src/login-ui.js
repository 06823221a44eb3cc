// The login dialog: a small, accessible <dialog> a page can restyle (class names below; the
// built-in style has zero specificity through :where(), so any page rule wins).
import { IntrustdAccessError } from './errors.js';

const STYLE_ID = 'intrustd-login-style';
const STYLE = `
:where(.intrustd-login) { border: 1px solid #8884; border-radius: 12px; padding: 1.25rem 1.5rem; max-width: 22rem;
  width: calc(100% - 2rem); font: 15px/1.4 system-ui, sans-serif; color: #1b1b1f; background: #fff; }
:where(.intrustd-login)::backdrop { background: #0006; }
:where(.intrustd-login h2) { margin: 0 0 .75rem; font-size: 1.15rem; }
:where(.intrustd-login label) { display: block; margin: .6rem 0 .2rem; font-weight: 600; }
:where(.intrustd-login input) { box-sizing: border-box; width: 100%; padding: .5rem .6rem; font: inherit;
  border: 1px solid #8888; border-radius: 8px; }
:where(.intrustd-login .intrustd-login-error) { color: #b3261e; min-height: 1.4em; margin: .6rem 0 0; }
:where(.intrustd-login menu) { display: flex; gap: .5rem; justify-content: flex-end; padding: 0; margin: 1rem 0 0; }
:where(.intrustd-login button) { font: inherit; padding: .45rem 1rem; border-radius: 8px; border: 1px solid #8888;
  background: #f3f3f6; cursor: pointer; }
:where(.intrustd-login button[type=submit]) { background: #2f5bd3; color: #fff; border-color: #2f5bd3; }
:where(.intrustd-login button:disabled) { opacity: .6; cursor: progress; }
`;

let counter = 0;

/**
 * Shows the login dialog for `handle` (an IntrustdHandle). Resolves with the SessionInfo after
 * a successful login, or null when the visitor cancels (Escape, Cancel). With `claim: true` it
 * claims a new appliance instead: one more field for the code the appliance printed, and the
 * name and password become its owner's.
 * @param {{title?: string, persona?: string, claim?: boolean, document?: Document}} options
 */
export function showLogin(handle, { title, persona = '', claim = false, document: doc = globalThis.document } = {}) {
  title = title || (claim ? 'Claim your appliance' : 'Log in to your appliance');
  if (!doc || typeof doc.createElement !== 'function') return Promise.reject(new TypeError('showLogin needs a document'));
  if (!doc.getElementById(STYLE_ID)) {
    const style = doc.createElement('style');
    style.id = STYLE_ID;
    style.textContent = STYLE;
    doc.head.appendChild(style);
  }
  const n = ++counter;
  const dialog = doc.createElement('dialog');
  dialog.className = 'intrustd-login';
  dialog.setAttribute('aria-labelledby', `intrustd-login-title-${n}`);
  dialog.innerHTML = `
    <form method="dialog" novalidate>
      <h2 id="intrustd-login-title-${n}"></h2>
      ${claim ? `<label for="intrustd-login-code-${n}">Claim code</label>
      <input id="intrustd-login-code-${n}" name="code" autocomplete="off" autocapitalize="characters" spellcheck="false" required>` : ''}
      <label for="intrustd-login-persona-${n}">Name</label>
      <input id="intrustd-login-persona-${n}" name="persona" autocomplete="username" autocapitalize="none"
        spellcheck="false" required>
      <label for="intrustd-login-password-${n}">Password</label>
      <input id="intrustd-login-password-${n}" name="password" type="password" autocomplete="current-password" required>
      <p class="intrustd-login-error" role="alert" aria-live="assertive"></p>
      <menu>
        <button type="button" value="cancel">Cancel</button>
        <button type="submit" value="login">${claim ? 'Claim' : 'Log in'}</button>
      </menu>
    </form>`;
  dialog.querySelector('h2').textContent = title;
  const form = dialog.querySelector('form');
  const nameInput = form.elements.persona;
  const passwordInput = form.elements.password;
  const codeInput = form.elements.code || null;
  const error = dialog.querySelector('.intrustd-login-error');
  const submit = dialog.querySelector('button[type=submit]');
  const cancel = dialog.querySelector('button[value=cancel]');
  nameInput.value = persona;
  doc.body.appendChild(dialog);

  return new Promise((resolve) => {
    let done = false;
    const finish = (value) => {
      if (done) return;
      done = true;
      if (dialog.open) dialog.close();
      dialog.remove();
      resolve(value);
    };
    dialog.addEventListener('cancel', (ev) => { ev.preventDefault(); finish(null); });
    cancel.addEventListener('click', () => finish(null));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if ((codeInput && !codeInput.value) || !nameInput.value || !passwordInput.value) {
        error.textContent = codeInput ? 'Enter the claim code, a name and a password.' : 'Enter your name and password.';
        ((codeInput && !codeInput.value) ? codeInput : nameInput.value ? passwordInput : nameInput).focus();
        return;
      }
      submit.disabled = true;
      dialog.setAttribute('aria-busy', 'true');
      error.textContent = '';
      try {
        finish(codeInput
          ? await handle.claim(codeInput.value.trim(), nameInput.value.trim(), passwordInput.value)
          : await handle.login(nameInput.value.trim(), passwordInput.value));
      } catch (e) {
        passwordInput.value = '';
        error.textContent = e instanceof IntrustdAccessError
          ? (e.status === 429 ? `Too many attempts. Try again in ${e.retryAfterSeconds ?? 'a few'} s.` : e.message)
          : 'The appliance cannot be reached. Try again.';
        passwordInput.focus();
      } finally {
        submit.disabled = false;
        dialog.removeAttribute('aria-busy');
      }
    });
    if (typeof dialog.showModal === 'function') dialog.showModal();
    else dialog.setAttribute('open', '');
    (codeInput || (persona ? passwordInput : nameInput)).focus();
  });
}
