// The agent console's "Recordings" tab: lists the relay's recorded sessions and plays one in
// rrweb-player (`play()` from @cobrowse/replayer). The recordings API needs the operator
// credential; the demo relay runs with --dev, where it is "dev".
import { play } from '@cobrowse/replayer';

const fmtTime = (ms) => new Date(ms).toLocaleString();
const fmtDuration = (ms) => {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};
const fmtBytes = (n) => (n < 1024 * 1024 ? `${Math.round(n / 1024)} KB` : `${(n / 1048576).toFixed(1)} MB`);

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  node.append(...children);
  return node;
}

/**
 * Adds the tabs ("Live", "Recordings") to the console. `live` is the live view's element; the
 * recordings panel is built next to it.
 */
export function mountRecordings({ relay, live, operatorToken = 'dev' }) {
  const tabs = el('nav', { class: 'tabs', role: 'tablist', 'aria-label': 'Console views' });
  const liveTab = el('button', { type: 'button', role: 'tab', 'aria-selected': 'true', id: 'tab-live' }, 'Live');
  const recTab = el(
    'button',
    { type: 'button', role: 'tab', 'aria-selected': 'false', id: 'tab-recordings' },
    'Recordings',
  );
  tabs.append(liveTab, recTab);
  live.before(tabs);

  const token = el('input', { id: 'operator-token', type: 'password', autocomplete: 'off', value: operatorToken });
  const refresh = el('button', { type: 'button', id: 'recordings-refresh' }, 'Refresh');
  const message = el('span', { class: 'recordings-message', 'aria-live': 'polite' });
  const list = el('table', { class: 'recordings-list' });
  const player = el('div', { id: 'recordings-player', 'aria-label': 'Recording player' });
  const panel = el(
    'section',
    { id: 'recordings', role: 'tabpanel', 'aria-labelledby': 'tab-recordings', hidden: '' },
    el('div', { class: 'recordings-bar' }, el('label', {}, 'Operator token ', token), refresh, message),
    list,
    player,
  );
  live.after(panel);

  let session;
  const headers = () => ({ authorization: `Bearer ${token.value}` });
  const show = (which) => {
    const recordings = which === 'recordings';
    live.hidden = recordings;
    panel.hidden = !recordings;
    liveTab.setAttribute('aria-selected', String(!recordings));
    recTab.setAttribute('aria-selected', String(recordings));
    if (recordings) load();
  };
  liveTab.addEventListener('click', () => show('live'));
  recTab.addEventListener('click', () => show('recordings'));
  refresh.addEventListener('click', () => load());

  async function load() {
    message.textContent = 'Loading…';
    let items;
    try {
      const response = await fetch(`${relay}/cobrowse/recordings`, { headers: headers() });
      if (!response.ok) throw new Error(`the relay answered ${response.status}`);
      items = await response.json();
    } catch (error) {
      message.textContent = `Cannot list recordings: ${error.message}`;
      return;
    }
    message.textContent = items.length ? '' : 'No recordings yet.';
    const head = el(
      'tr',
      {},
      ...['Started', 'Room', 'Length', 'People', 'Size', ''].map((text) => el('th', { scope: 'col' }, text)),
    );
    const rows = items.map((item) => {
      const people = item.participants.map(
        (p) => `${p.userName || p.userId} (${p.role === 'recorder' ? 'customer' : 'agent'})`,
      );
      const playButton = el('button', { type: 'button', 'data-play': item.id }, 'Play');
      const deleteButton = el('button', { type: 'button', class: 'danger', 'data-delete': item.id }, 'Delete');
      playButton.addEventListener('click', () => open(item.id));
      deleteButton.addEventListener('click', () => remove(item.id));
      return el(
        'tr',
        { 'data-recording': item.id },
        el('td', {}, fmtTime(item.startedAt)),
        el('td', {}, item.roomId),
        el('td', {}, item.endedAt ? fmtDuration(item.durationMs) : 'recording…'),
        el('td', {}, people.join(', ')),
        el('td', {}, fmtBytes(item.bytes) + (item.truncated ? ' (cut short)' : '')),
        el('td', {}, playButton, ' ', deleteButton),
      );
    });
    list.replaceChildren(el('thead', {}, head), el('tbody', {}, ...rows));
  }

  async function open(id) {
    session?.destroy();
    session = undefined;
    player.replaceChildren();
    message.textContent = 'Loading the recording…';
    try {
      session = await play({ server: relay, recordingId: id, container: player, headers: headers() });
      window.playback = session;
      message.textContent = session.truncated ? 'This recording was cut short: it plays up to the cut.' : '';
    } catch (error) {
      message.textContent = `Cannot play: ${error.message}`;
    }
  }

  async function remove(id) {
    if (!confirm('Delete this recording for good?')) return;
    const response = await fetch(`${relay}/cobrowse/recordings/${encodeURIComponent(id)}`, {
      method: 'DELETE',
      headers: headers(),
    });
    message.textContent = response.ok ? 'Deleted.' : `Cannot delete: the relay answered ${response.status}`;
    if (response.ok) load();
  }
}
