import { prepare } from '@cobrowse/replayer';
import { mountTools } from './tools.js';
import { mountRecordings } from './recordings.js';

const RELAY = 'http://127.0.0.1:8787';
/** How long a fresh join waits for the customer before saying there is no such session. */
const FIND_CUSTOMER_MS = 2500;
const form = document.getElementById('join-form');
const roomInput = document.getElementById('room');
const joinButton = document.getElementById('join');
const leaveButton = document.getElementById('leave');
const statusText = document.getElementById('status');
const panel = document.getElementById('panel');
const panelTitle = document.getElementById('panel-title');
const panelText = document.getElementById('panel-text');
let session;
let unmountTools;
/**
 * The replay view, built ahead (prepare()) so that Join only connects: the agent sees the customer's
 * page sooner (the relay's CORS preflight and connection are made ahead too). One view per join; a new one is prepared when the last one is used up.
 */
let view;
/** Who this agent is and how it reaches the relay: given to prepare(), which warms the connection up. */
const SERVICE = {
  server: RELAY,
  userId: 'agent-667',
  userName: 'Demo agent',
  headers: { 'ccmessaging-token': 'dev' },
};
const prepareView = () => (view ??= prepare({ container: '#screen', ...SERVICE }));
prepareView();

// The "Recordings" tab (recordings.js): stored sessions, played with rrweb-player.
mountRecordings({ relay: RELAY, live: document.querySelector('main') });

/** The status line: `state` picks its colour (only `live` is green). */
function show(state, text) {
  statusText.dataset.status = state;
  statusText.textContent = text;
}

/** A panel over the screen for states that need the agent's attention (no such session, ended). */
function showPanel(title, text) {
  panelTitle.textContent = title;
  panelText.textContent = text;
  panel.hidden = false;
}

/** Join/Leave and the code field follow whether the console is watching a session. */
function setWatching(watching) {
  joinButton.hidden = watching;
  joinButton.disabled = false;
  leaveButton.hidden = !watching;
  roomInput.disabled = watching;
}

/** Stops watching (the replay is taken down). */
function stopWatching() {
  unmountTools?.();
  unmountTools = undefined;
  const current = session;
  session = undefined;
  window.agent = undefined;
  setWatching(false);
  current?.leave();
  prepareView();
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const code = roomInput.value.trim();
  if (!/^\d{6}$/.test(code)) {
    show('error', 'Enter the 6-digit code the customer reads to you');
    return;
  }
  if (session) stopWatching();
  panel.hidden = true;
  joinButton.disabled = true;
  roomInput.disabled = true;
  show('connecting', 'Connecting…');
  let joined;
  const ready = prepareView();
  view = undefined; // used up by this join, whatever its outcome
  try {
    joined = await ready.join({ roomId: code });
  } catch (error) {
    prepareView();
    setWatching(false);
    show('error', `Could not join: ${error.message}`);
    return;
  }
  session = joined;
  window.agent = joined;
  unmountTools = mountTools(joined);
  setWatching(true);
  let seen = false; // a snapshot of the customer's page has arrived
  let customer = false; // the customer's browser is connected
  const update = () => {
    if (session !== joined) return;
    if (joined.status === 'ended') return;
    if (joined.status !== 'live')
      show(joined.status, joined.status === 'reconnecting' ? 'Reconnecting…' : 'Connecting…');
    else if (seen && customer) show('live', 'Live');
    else if (seen) show('reconnecting', 'The customer is reconnecting…');
    else show('connecting', "Looking for the customer's session…");
  };
  // A code nobody is sharing under: say so instead of waiting in silence.
  const missing = setTimeout(() => {
    if (session !== joined || seen) return;
    stopWatching();
    show('error', `No such session: ${code}`);
    showPanel(
      `No session with code ${code}`,
      'Nobody is sharing their screen with this code. Check the code with the customer (it appears next to their Share button) and join again.',
    );
  }, FIND_CUSTOMER_MS);
  joined.on('snapshot', () => {
    seen = true;
    customer = true;
    clearTimeout(missing);
    update();
  });
  joined.on('presence', ({ recorder }) => {
    customer = recorder;
    update();
  });
  joined.on('status', update);
  joined.on('ended', () => {
    if (session !== joined) return;
    clearTimeout(missing);
    stopWatching();
    show('ended', 'Session ended');
    showPanel(
      'The session has ended',
      'The customer stopped sharing their screen. Enter a new code to join another session.',
    );
  });
  update();
});

leaveButton.addEventListener('click', () => {
  stopWatching();
  panel.hidden = true;
  show('idle', 'Not connected');
});
