// The customer site's own code: a little app, plus the "Share my screen" button.
const RELAY = 'http://127.0.0.1:8787';

const faq = document.getElementById('faq-list');
for (let i = 1; i <= 25; i++) {
  const item = document.createElement('details');
  item.innerHTML = `<summary>Question ${i}: how long does step ${i} take?</summary><p>Usually ${i} working day${i > 1 ? 's' : ''}.</p>`;
  faq.appendChild(item);
}

window.addClaim = function addClaim() {
  const form = document.getElementById('claim-form');
  const data = new FormData(form);
  const body = document.getElementById('claims');
  const row = document.createElement('tr');
  row.className = 'new';
  for (const text of [
    String(body.rows.length + 1),
    data.get('item'),
    data.get('kind'),
    `${data.get('value')} €`,
    'Submitted',
  ]) {
    const cell = document.createElement('td');
    cell.textContent = text;
    row.appendChild(cell);
  }
  body.appendChild(row);
};

// A short code the customer reads to the agent on the phone; it is the room id.
const button = document.getElementById('share');
const code = document.getElementById('code');

/** The page while a share runs: the code to read out, no Share button (the badge has Stop). */
function sharing(session) {
  code.textContent = `Your code: ${session.roomId}`;
  button.hidden = true;
  session.on('ended', () => {
    code.textContent = 'Sharing stopped';
    button.hidden = false;
    button.disabled = false;
  });
}

// A share started on an earlier page of this tab (or before a reload) carries on by itself:
// the recorder resumes it in the same room, and the page shows it instead of offering a new one.
button.disabled = true;
CobrowseRecorder.resumed().then((session) => {
  if (session) sharing(session);
  button.disabled = false;
});

button.addEventListener('click', async () => {
  button.disabled = true;
  const roomId = String(Math.floor(100000 + Math.random() * 900000));
  try {
    const session = await CobrowseRecorder.start({
      server: RELAY,
      roomId,
      userId: 'customer-' + roomId,
      userName: 'Demo customer',
      // The relay runs with --dev: "dev" is accepted as the ccmessaging-token.
      headers: { 'ccmessaging-token': 'dev' },
    });
    sharing(session);
  } catch (error) {
    code.textContent = `Could not start sharing: ${error.message}`;
    button.disabled = false;
  }
});
