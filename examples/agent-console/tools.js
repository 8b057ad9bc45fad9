// Agent tools for the console: Pointer, Highlight and Request control buttons with visible state.
// console.js calls mountTools(session) once joined; the returned function removes the toolbar.

/** The point of the customer's page under a click on the replay (the replay is scaled to fit). */
function pageElementAt(session, event) {
  const iframe = session.iframe;
  const box = iframe.getBoundingClientRect();
  if (!box.width || !iframe.offsetWidth) return null;
  const scale = box.width / iframe.offsetWidth;
  const x = (event.clientX - box.left) / scale;
  const y = (event.clientY - box.top) / scale;
  return iframe.contentDocument?.elementFromPoint(x, y) ?? null;
}

export function mountTools(session, screen = document.getElementById('screen')) {
  const bar = document.createElement('div');
  bar.className = 'tools';
  bar.setAttribute('role', 'toolbar');
  bar.setAttribute('aria-label', 'Agent tools');
  bar.innerHTML = `
    <button type="button" data-tool="pointer" aria-pressed="true">Pointer: on</button>
    <button type="button" data-tool="highlight" aria-pressed="false">Highlight</button>
    <button type="button" data-tool="control">Request control</button>
    <span class="control-state" aria-live="polite"></span>`;
  document.querySelector('header').appendChild(bar);
  const pointer = bar.querySelector('[data-tool=pointer]');
  const highlight = bar.querySelector('[data-tool=highlight]');
  const control = bar.querySelector('[data-tool=control]');
  const state = bar.querySelector('.control-state');

  pointer.addEventListener('click', () => {
    session.sharePointer = !session.sharePointer;
    pointer.setAttribute('aria-pressed', String(session.sharePointer));
    pointer.textContent = `Pointer: ${session.sharePointer ? 'on' : 'off'}`;
  });

  // Highlight mode: the next click on the replay marks that element for the customer (Alt+click always does).
  highlight.addEventListener('click', () => {
    const armed = highlight.getAttribute('aria-pressed') !== 'true';
    highlight.setAttribute('aria-pressed', String(armed));
    highlight.textContent = armed ? 'Click an element…' : 'Highlight';
  });
  const onScreenClick = (event) => {
    if (highlight.getAttribute('aria-pressed') !== 'true') return;
    const element = pageElementAt(session, event);
    if (!element) return;
    event.preventDefault();
    session.highlight(element);
    highlight.setAttribute('aria-pressed', 'false');
    highlight.textContent = 'Highlight';
  };
  screen.addEventListener('click', onScreenClick, true);

  const show = (text, kind) => {
    state.textContent = text;
    state.dataset.state = kind;
  };
  const render = () => {
    control.textContent =
      session.control === 'granted'
        ? 'Release control'
        : session.control === 'requested'
          ? 'Waiting for the customer…'
          : 'Request control';
    control.disabled = session.control === 'requested';
  };
  control.addEventListener('click', async () => {
    if (session.control === 'granted') {
      session.releaseControl();
      show('Released', 'ended');
      render();
      return;
    }
    const asked = session.requestControl();
    show('Requested', 'requested');
    render();
    if (!(await asked)) show('Denied', 'denied');
    render();
  });
  const off = session.on('control', ({ state: next, mine }) => {
    if (!mine) return;
    if (next === 'granted') show('You are in control', 'granted');
    else if (next === 'denied') show('Denied', 'denied');
    else if (next === 'ended' && state.dataset.state === 'granted') show('Taken back by the customer', 'ended');
    render();
  });
  const offRefused = session.on('refused', () => show('Not allowed on that element', 'refused'));
  render();

  return () => {
    off();
    offRefused();
    screen.removeEventListener('click', onScreenClick, true);
    bar.remove();
  };
}
