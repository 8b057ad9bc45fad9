import { join } from '@cobrowse/replayer';
import { mountRecordings } from './recordings.js';

const RELAY = 'http://127.0.0.1:8787';
const form = document.getElementById('join-form');
const roomInput = document.getElementById('room');
const joinButton = document.getElementById('join');
const leaveButton = document.getElementById('leave');
const statusText = document.getElementById('status');
let session;

// The "Recordings" tab (recordings.js): stored sessions, played with rrweb-player.
mountRecordings({ relay: RELAY, live: document.getElementById('screen') });

function show(status, text) {
  statusText.dataset.status = status;
  statusText.textContent = text;
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  joinButton.disabled = true;
  show('connecting', 'Connecting…');
  try {
    session = await join({
      server: RELAY,
      roomId: roomInput.value.trim(),
      userId: 'agent-667',
      userName: 'Demo agent',
      container: '#screen',
      headers: { 'ccmessaging-token': 'dev' },
    });
    window.agent = session;
    const labels = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', ended: 'Session ended' };
    session.on('status', (status) => show(status, labels[status]));
    session.on('presence', ({ recorder }) => {
      if (session.status === 'live') show('live', recorder ? 'Live' : 'Live — waiting for the customer');
    });
    show(session.status, labels[session.status]);
    leaveButton.hidden = false;
  } catch (error) {
    show('ended', `Could not join: ${error.message}`);
    joinButton.disabled = false;
  }
});

leaveButton.addEventListener('click', () => {
  session?.leave();
  session = undefined;
  leaveButton.hidden = true;
  joinButton.disabled = false;
  show('ended', 'Not connected');
});
