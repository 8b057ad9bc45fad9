// Row 9 of `npm run bench`: bytes the customer's page puts on the wire during a typical session on
// a realistic page (bench/pages/session.html: a quote form, plans, FAQ, reviews, a clock, a chat
// widget; ~950 nodes). The same scripted session runs at the same time on ours, on the naive setup
// and on ours with the relay's compressUplink (three customer tabs, each with its own mouse and
// keyboard); every frame the page sends is counted.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRelay } from '../../test-support/processes.mjs';

/** What the script does, in order (printed with the results). */
export const SESSION_SCRIPT =
  'pointer moves; type name, email (an invalid address shows a hint, then fixed), phone, pick a country, type an address and a 50-character note ' +
  '(human speed, 70–110 ms a key); tick the terms box; scroll down through plans, FAQ and reviews with the wheel while moving the pointer; ' +
  'choose a plan; open two FAQ answers; scroll back up; then pointer moves now and then until the end. The page itself updates a clock every second, ' +
  'a chat message every 8 s and an autosave notice.';

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** The scripted session: ~20 s of input, then pointer moves until `durationMs` have passed. */
export async function typicalSession(page, durationMs) {
  const end = Date.now() + durationMs;
  const { mouse, keyboard } = page;
  await mouse.move(200, 150);
  await mouse.move(520, 260, { steps: 25 });
  await page.click('#name');
  await keyboard.type('Ada Lovelace', { delay: 110 });
  await mouse.move(640, 240, { steps: 10 });
  await page.click('#email');
  await keyboard.type('ada.lovelace@example', { delay: 100 });
  await sleep(400);
  await keyboard.type('.com', { delay: 100 });
  await page.click('#phone');
  await keyboard.type('+44 20 7946 0958', { delay: 90 });
  await page.selectOption('#country', 'United Kingdom');
  await page.click('#address');
  await keyboard.type("12 St James's Square, London", { delay: 80 });
  await page.click('#notes');
  await keyboard.type('We have a home office and two bikes in the shed.', { delay: 70 });
  await page.click('#terms');
  for (let i = 0; i < 8; i++) {
    await mouse.move(300 + i * 40, 400 + (i % 2) * 60, { steps: 8 });
    await mouse.wheel(0, 250);
    await sleep(250);
  }
  await page.click('.plan[data-plan="plus"] button');
  await page.click('#faq details:nth-of-type(2) summary');
  await sleep(600);
  await page.click('#faq details:nth-of-type(4) summary');
  await sleep(600);
  for (let i = 0; i < 4; i++) {
    await mouse.wheel(0, -400);
    await sleep(300);
  }
  for (let i = 0; Date.now() < end - 1000; i++) {
    await mouse.move(200 + ((i * 137) % 600), 200 + ((i * 89) % 400), { steps: 12 });
    await sleep(Math.min(1000, Math.max(0, end - 1000 - Date.now())));
  }
  await sleep(Math.max(0, end - Date.now()));
}

const byteLength = (payload) => (typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length);
/** A frame on the wire from a browser: payload + WebSocket header (2, 4 or 10 bytes) + 4-byte mask, no compression. */
const wireLength = (payload) => {
  const n = byteLength(payload);
  return n + (n < 126 ? 2 : n < 65536 ? 4 : 10) + 4;
};
/** Our frames' routing header (JSON line before the payload), bytes. */
const headerLength = (payload) => {
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const nl = bytes.indexOf(0x0a);
  return nl === -1 ? bytes.length : nl + 1;
};
const sum = (frames, f) => frames.reduce((total, x) => total + f(x), 0);

/** Index of the last frame that belongs to the first full snapshot (ours: the snap batch; naive: the FullSnapshot event). */
function snapshotEnd(side, frames) {
  if (side === 'naive') return frames.findIndex((f) => typeof f === 'string' && f.startsWith('{"type":2'));
  return frames.findIndex((f) => {
    const bytes = typeof f === 'string' ? Buffer.from(f) : f;
    const nl = bytes.indexOf(0x0a);
    if (nl === -1) return false;
    try {
      const header = JSON.parse(bytes.subarray(0, nl).toString());
      return header.type === 'events' && header.snap === true;
    } catch {
      return false;
    }
  });
}

/** `variant`: 'ours', 'naive', or 'ours-deflate' (ours against a relay with compressUplink: the relay counts the wire bytes). */
async function oneSide(h, variant, durationMs, deflateRelay) {
  const side = variant === 'naive' ? 'naive' : 'ours';
  const context = await h.newContext();
  const uplink = async () =>
    (await (await fetch(`${deflateRelay.url}/cobrowse/status`, { headers: { authorization: 'Bearer dev' } })).json())
      .uplinkBytes;
  try {
    const frames = [];
    const extra = variant === 'ours-deflate' ? { relay: deflateRelay.url } : {};
    const customer = await h.openCustomer(
      context,
      side,
      h.roomId(`session-${variant}`),
      'session.html',
      (tab) => {
        tab.on('websocket', (ws) =>
          ws.on('framesent', (frame) =>
            frames.push(typeof frame.payload === 'string' ? frame.payload : Buffer.from(frame.payload)),
          ),
        );
      },
      extra,
    );
    // The first snapshot is out once its frame was sent.
    for (let i = 0; i < 100 && snapshotEnd(side, frames) === -1; i++) await sleep(50);
    const cut = snapshotEnd(side, frames);
    if (cut === -1) throw new Error(`${side}: no full snapshot was sent`);
    await sleep(200);
    const startAt = frames.length;
    const uplinkBefore = variant === 'ours-deflate' ? await uplink() : 0;
    const started = Date.now();
    await typicalSession(customer, durationMs);
    await sleep(300); // the last batch leaves
    const windowMs = Date.now() - started;
    const uplinkBytes = variant === 'ours-deflate' ? (await uplink()) - uplinkBefore : null;
    const during = frames.slice(startAt);
    const snapshot = frames.slice(0, cut + 1);
    const bytes = sum(during, byteLength);
    // Naive: the Meta event that precedes the snapshot belongs with it.
    const first = side === 'naive' && cut > 0 && String(frames[cut - 1]).startsWith('{"type":4') ? cut - 1 : cut;
    const wire = uplinkBytes ?? sum(during, wireLength);
    const result = {
      variant,
      windowMs,
      snapshotBytes: sum(snapshot, byteLength),
      sessionPayloadBytes: bytes,
      sessionWireBytes: wire,
      wireCounted:
        uplinkBytes === null
          ? 'frames sent by the page + WebSocket framing'
          : "the relay's uplinkBytes (permessage-deflate)",
      sessionFrames: during.length,
      ...(side === 'ours' ? { routingHeaderBytes: sum(during, headerLength) } : {}),
      wireBytesPerMinute: Math.round((wire * 60_000) / windowMs),
      errors: await customer.evaluate(() => window.bench.errors.slice(0, 3)),
    };
    // For row 10: the frames of a real session (snapshot first), to load the relays with; not in the report.
    Object.defineProperty(result, 'frames', { value: frames.slice(first), enumerable: false });
    return result;
  } finally {
    await context.close();
  }
}

/**
 * The setups at once: ours, naive, and ours against a second relay process with `compressUplink`
 * (permessage-deflate on the customer's socket). Returns per-setup figures and (not in the report)
 * the captured frames.
 */
export async function sessionBytesScenario(h, { durationMs }) {
  h.log(`row 9, a typical ${durationMs / 1000} s session on ours, naive, and ours with compressUplink, at once`);
  const dir = mkdtempSync(join(tmpdir(), 'cobrowse-bench-'));
  const config = join(dir, 'relay.json');
  writeFileSync(config, JSON.stringify({ compressUplink: true }));
  const deflateRelay = await startRelay(['--dev', '--config', config]);
  try {
    const [ours, naive, oursDeflate] = await Promise.all(
      ['ours', 'naive', 'ours-deflate'].map((v) => oneSide(h, v, durationMs, deflateRelay)),
    );
    return { script: SESSION_SCRIPT, ours, naive, oursDeflate };
  } finally {
    await deflateRelay.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
