import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from '@playwright/test';
import WebSocket from 'ws';
import { AgentOp, PROTOCOL_VERSION, encodeText, socketUrl } from '@cobrowse/protocol';
import { expect, pageUrl, roomId, test } from './support/cobrowse.js';
import { REPO, type RelayProcess, type StaticSite } from './support/processes.js';

/**
 * Agent tools end to end: a customer page and agents in separate browser contexts, both SDKs loaded
 * from the relay's /sdk/ bundles, talking through a real relay process.
 */

type Where = { site: StaticSite; relay: RelayProcess; room: string };

async function openCustomer(
  context: BrowserContext,
  where: Where,
  page = 'tools.html',
  options: object = { maskAllInputs: false },
): Promise<Page> {
  const customer = await context.newPage();
  await customer.goto(pageUrl(where.site, where.relay, page, where.room, '&auto=0'));
  await customer.evaluate((o) => (window as any).cobrowseReady.then(() => (window as any).cobrowseStart(o)), options);
  await expect.poll(() => customer.evaluate(() => (window as any).cobrowse?.status)).toBe('live');
  return customer;
}

async function openAgent(browser: Browser, where: Where, name: string, options: object = {}): Promise<Page> {
  const agent = await (await browser.newContext()).newPage();
  await agent.goto(pageUrl(where.site, where.relay, 'agent.html', where.room, '&auto=0'));
  await agent.evaluate(
    ([n, o]) =>
      (window as any).cobrowseReady.then(() =>
        (window as any).cobrowseJoin({ userName: n, userId: n.toLowerCase(), ...o }).then(() => undefined),
      ),
    [name, options] as const,
  );
  await expect.poll(() => agent.evaluate(() => (window as any).agent?.status)).toBe('live');
  await expect.poll(() => agent.evaluate(() => (window as any).cobrowseSnapshots)).toBeGreaterThan(0);
  return agent;
}

/** Where, in the agent's page, a point of a replayed element is (fractions of its box). */
function agentPoint(agent: Page, selector: string, fx = 0.5, fy = 0.5): Promise<{ x: number; y: number }> {
  return agent.evaluate(
    ([sel, fx, fy]) => {
      const iframe = (window as any).agent.iframe as HTMLIFrameElement;
      const el = iframe.contentDocument!.querySelector(sel as string)!;
      const r = el.getBoundingClientRect();
      const f = iframe.getBoundingClientRect();
      const scale = f.width / iframe.offsetWidth;
      return {
        x: f.left + (r.left + r.width * (fx as number)) * scale,
        y: f.top + (r.top + r.height * (fy as number)) * scale,
      };
    },
    [selector, fx, fy] as const,
  );
}

function rectOf(customer: Page, selector: string) {
  return customer.evaluate((sel) => {
    const r = document.querySelector(sel)!.getBoundingClientRect();
    return { x: r.left, y: r.top, width: r.width, height: r.height };
  }, selector);
}

const pageEvents = (customer: Page): Promise<string[]> => customer.evaluate(() => (window as any).pageEvents ?? []);

/** Asks for control from the agent and answers the customer's prompt; resolves with what the agent's promise said. */
async function askControl(agent: Page, customer: Page, answer: 'Allow' | 'Deny', name: string): Promise<boolean> {
  const asked = agent.evaluate(() => (window as any).agent.requestControl() as Promise<boolean>);
  const dialog = customer.getByRole('dialog');
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText(name);
  await dialog.getByRole('button', { name: new RegExp(answer) }).click();
  await expect(dialog).toBeHidden();
  return asked;
}

/** An agent speaking the wire protocol directly (no replay): sends whatever agent frames it likes. */
async function rawAgent(where: Where, name: string): Promise<{ send(frame: object): void; close(): void }> {
  const response = await fetch(`${where.relay.url}/service-cloud/rest/webadapter/v1/connectionInfo/getConnectionInfo`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'ccmessaging-token': 'dev' },
    body: JSON.stringify({ roomId: where.room, userId: name.toLowerCase(), userName: name, role: 'replayer' }),
  });
  const { data } = (await response.json()) as { data: { wssUrl: string; signature: string } };
  const ws = new WebSocket(socketUrl(data.wssUrl, data.signature, 'replayer'));
  const welcome = new Promise<void>((resolve, reject) => {
    ws.on('message', (frame) => {
      if (String(frame).startsWith('{"type":"welcome"')) resolve();
    });
    ws.once('error', reject);
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  ws.send(encodeText({ type: 'hello', v: PROTOCOL_VERSION }));
  await welcome;
  return { send: (frame) => ws.send(encodeText({ type: 'agent', ...frame } as never)), close: () => ws.close() };
}

async function clickInReplay(agent: Page, selector: string): Promise<void> {
  const at = await agentPoint(agent, selector);
  await agent.mouse.click(at.x, at.y);
}

test.describe('agent tools', () => {
  test('the pointer appears where the agent points; a highlight lands on the element and follows scrolling', async ({
    browser,
    context,
    site,
    relay,
  }) => {
    const where = { site, relay, room: roomId() };
    const customer = await openCustomer(context, where);
    const agent = await openAgent(browser, where, 'Alice');
    // Pointer: the agent's mouse over the replay's "Save" button shows Alice's pointer on the customer's.
    const at = await agentPoint(agent, '#save');
    await agent.mouse.move(at.x - 5, at.y);
    await agent.mouse.move(at.x, at.y);
    const pointer = customer.locator('[data-cobrowse-pointer="Alice"]');
    await expect(pointer).toBeVisible();
    const save = await rectOf(customer, '#save');
    await expect
      .poll(async () => {
        const box = (await pointer.boundingBox())!;
        return Math.hypot(box.x - (save.x + save.width / 2), box.y - (save.y + save.height / 2));
      })
      .toBeLessThan(3);
    // It never intercepts the customer's clicks, and is never recorded back to the agent.
    expect(await pointer.evaluate((el) => getComputedStyle(el).pointerEvents)).toBe('none');
    await customer.click('#save');
    await expect.poll(() => pageEvents(customer)).toContain('saved');
    // The agent's mouse leaves the replay: the pointer goes.
    await agent.mouse.move(790, 5);
    await agent.mouse.move(5, 5);
    await agent.mouse.move(900, 700);
    await expect(pointer).toHaveCount(0);

    // Highlight: an element of the replay, anchored on the customer's side.
    await agent.evaluate(() => {
      const s = (window as any).agent;
      s.highlight(s.iframe.contentDocument.querySelector('#target'));
    });
    const mark = customer.locator('[data-cobrowse-highlight]');
    await expect(mark).toHaveCount(1);
    const around = async () => {
      const box = (await mark.boundingBox())!;
      const target = await rectOf(customer, '#target');
      return Math.max(
        Math.abs(box.x + box.width / 2 - (target.x + target.width / 2)),
        Math.abs(box.y + box.height / 2 - (target.y + target.height / 2)),
      );
    };
    await expect.poll(around).toBeLessThan(2);
    await customer.evaluate(() => window.scrollTo(0, 500));
    await expect.poll(around).toBeLessThan(2);
    const html = await agent.evaluate(() => (window as any).agent.iframe.contentDocument.documentElement.outerHTML);
    expect(html).not.toContain('data-cobrowse-highlight');
    expect(html).not.toContain('data-cobrowse-pointer');
    // clearHighlights removes it; a page rectangle works too; and Alt+click on the replay highlights.
    await agent.evaluate(() => (window as any).agent.clearHighlights());
    await expect(mark).toHaveCount(0);
    await agent.evaluate(() => (window as any).agent.highlight({ x: 10, y: 400, width: 50, height: 20 }));
    await expect(mark).toHaveCount(1);
    await agent.evaluate(() => (window as any).agent.clearHighlights());
    await expect(mark).toHaveCount(0);
    // (Once the replay has followed the customer's scroll, so the point is on the replayed #target.)
    await expect.poll(() => agent.evaluate(() => (window as any).agent.iframe.contentWindow.scrollY)).toBe(500);
    const target = await agentPoint(agent, '#target');
    await agent.keyboard.down('Alt');
    await agent.mouse.click(target.x, target.y);
    await agent.keyboard.up('Alt');
    await expect(mark).toHaveCount(1);
    await expect.poll(around).toBeLessThan(2);
  });

  test('a highlight flood from many agents: the overlay keeps at most 10 per agent and 50 in all, the page stays responsive; one pointer per agent, gone when it leaves', async ({
    context,
    site,
    relay,
  }) => {
    const where = { site, relay, room: roomId() };
    const customer = await openCustomer(context, where);
    const marks = customer.locator('[data-cobrowse-highlight]');
    const agents = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => rawAgent(where, `Flooder${i}`)));
    /** Each agent's frames reach the page in order: its pointer showing means all it sent before arrived. */
    const flood = async (agent: (typeof agents)[number], name: string, count: number) => {
      for (let i = 0; i < count; i++)
        agent.send({ op: AgentOp.Highlight, x: (i % 40) * 20, y: Math.floor(i / 40) * 20, w: 18, h: 18 });
      agent.send({ op: AgentOp.PointerMove, x: 10, y: 10 });
      await expect(customer.locator(`[data-cobrowse-pointer="${name}"]`)).toHaveCount(1);
    };
    // One agent: 100 highlights at once leave its newest 10.
    await flood(agents[0]!, 'Flooder1', 100);
    expect(await marks.count()).toBe(10);
    // Five more send 80 each (500 in all, within the relay's burst): never more than 50 on the page.
    await Promise.all(agents.slice(1).map((agent, i) => flood(agent, `Flooder${i + 2}`, 80)));
    expect(await marks.count()).toBe(50);
    // Pointers: one element per agent however many moves it sends.
    for (const [k, agent] of agents.entries()) {
      for (let i = 0; i < 20; i++) agent.send({ op: AgentOp.PointerMove, x: i, y: i });
      agent.send({ op: AgentOp.PointerMove, x: 300 + k, y: 300 });
    }
    for (const k of agents.keys())
      await expect
        .poll(() => customer.locator(`[data-cobrowse-pointer="Flooder${k + 1}"]`).evaluate((el) => el.style.transform))
        .toBe(`translate(${300 + k}px, 300px)`);
    await expect(customer.locator('[data-cobrowse-pointer]')).toHaveCount(6);
    // The page stays responsive: frames keep coming and the customer's clicks work.
    const frames = await customer.evaluate(
      () =>
        new Promise<number>((resolve) => {
          let n = 0;
          const end = performance.now() + 1000;
          const tick = () => (performance.now() < end ? (n++, requestAnimationFrame(tick)) : resolve(n));
          requestAnimationFrame(tick);
        }),
    );
    expect(frames).toBeGreaterThan(20);
    await customer.click('#save');
    await expect.poll(() => pageEvents(customer)).toContain('saved');
    // An agent that leaves takes its pointer with it; the highlights then fade within seconds.
    agents[2]!.close();
    await expect(customer.locator('[data-cobrowse-pointer="Flooder3"]')).toHaveCount(0);
    await expect(customer.locator('[data-cobrowse-pointer]')).toHaveCount(5);
    await expect(marks).toHaveCount(0, { timeout: 10_000 });
    for (const agent of agents) agent.close();
  });

  test('an agent cannot spam the consent prompt: one at a time, 3 a minute, and reconnecting does not reset it', async ({
    context,
    site,
    relay,
  }) => {
    const where = { site, relay, room: roomId() };
    const customer = await openCustomer(context, where);
    const requested = await customer.evaluateHandle(() => {
      const list: string[] = [];
      (window as any).cobrowse.on('control', (e: any) => list.push(`${e.state}:${e.agent.name}`));
      return list;
    });
    const dialog = customer.getByRole('dialog');
    let nagger = await rawAgent(where, 'Nagger');
    /** Sends `count` requests, then a pointer move to `x`: once the pointer is there, all were handled. */
    const ask = async (count: number, x: number) => {
      for (let i = 0; i < count; i++) nagger.send({ op: AgentOp.RequestControl });
      nagger.send({ op: AgentOp.PointerMove, x, y: 5 });
      await expect
        .poll(() => customer.locator('[data-cobrowse-pointer="Nagger"]').evaluate((el) => el.style.transform))
        .toBe(`translate(${x}px, 5px)`);
    };
    for (let round = 1; round <= 3; round++) {
      await ask(20, round);
      // However many requests, one prompt at a time.
      await expect(dialog).toHaveCount(1);
      await dialog.getByRole('button', { name: /Deny/ }).click();
      await expect(dialog).toHaveCount(0);
    }
    // A fourth round within the minute is denied without asking the customer.
    await ask(20, 4);
    await expect(dialog).toHaveCount(0);
    // Nor does a new connection of the same agent get a fresh allowance.
    nagger.close();
    await expect(customer.locator('[data-cobrowse-pointer="Nagger"]')).toHaveCount(0);
    nagger = await rawAgent(where, 'Nagger');
    await ask(5, 6);
    await expect(dialog).toHaveCount(0);
    expect((await requested.evaluate((l) => l)).filter((e) => e.startsWith('requested'))).toEqual([
      'requested:Nagger',
      'requested:Nagger',
      'requested:Nagger',
    ]);
    nagger.close();
    // An agent who leaves while the customer is being asked withdraws its prompt.
    const leaver = await rawAgent(where, 'Leaver');
    leaver.send({ op: AgentOp.RequestControl });
    await expect(dialog).toContainText('Leaver');
    leaver.close();
    await expect(dialog).toHaveCount(0);
    await expect.poll(() => requested.evaluate((l) => l.at(-1))).toBe('denied:Leaver');
  });

  test('control: asked → denied → asked → allowed; the agent types and clicks, the page handlers run; limits hold; Take back control', async ({
    browser,
    context,
    site,
    relay,
  }) => {
    const where = { site, relay, room: roomId() };
    const customer = await openCustomer(context, where);
    const alice = await openAgent(browser, where, 'Alice');
    const bob = await openAgent(browser, where, 'Bob');
    const customerEvents = await customer.evaluateHandle(() => {
      const list: string[] = [];
      (window as any).cobrowse.on('control', (e: any) => list.push(`${e.state}:${e.agent.name}`));
      return list;
    });
    // The prompt is keyboard reachable: it takes focus on "Deny", and Tab/Enter answer it.
    const first = alice.evaluate(() => (window as any).agent.requestControl() as Promise<boolean>);
    await expect(customer.getByRole('dialog')).toContainText('Alice');
    await customer.keyboard.press('Tab');
    await customer.keyboard.press('Tab');
    await customer.keyboard.press('Enter');
    expect(await first).toBe(false);
    expect(await alice.evaluate(() => (window as any).agent.control)).toBe('none');
    expect(await askControl(alice, customer, 'Allow', 'Alice')).toBe(true);
    expect(await alice.evaluate(() => (window as any).agent.control)).toBe('granted');
    expect(await customerEvents.evaluate((l) => l)).toEqual([
      'requested:Alice',
      'denied:Alice',
      'requested:Alice',
      'granted:Alice',
    ]);
    const indicator = customer.getByRole('button', { name: /Take back control/ });
    await expect(indicator).toBeVisible();

    // A second agent cannot take control while Alice holds it (and the customer is not asked).
    expect(await bob.evaluate(() => (window as any).agent.requestControl())).toBe(false);
    await expect(customer.getByRole('dialog')).toHaveCount(0);

    // Alice types into the name field and presses Save: the page's own listeners run.
    await clickInReplay(alice, '#name');
    await alice.keyboard.type('Hi Bo');
    await expect(customer.locator('#name')).toHaveValue('Hi Bo');
    await expect.poll(() => pageEvents(customer)).toContain('input:Hi Bo');
    await clickInReplay(alice, '#save');
    await expect.poll(() => pageEvents(customer)).toContain('saved');
    // Select, checkbox and Enter in a form.
    await clickInReplay(alice, '#agree');
    await expect.poll(() => pageEvents(customer)).toContain('agree:true');
    await alice.evaluate(() => {
      const doc = (window as any).agent.iframe.contentDocument as Document;
      const select = doc.querySelector('#plan') as HTMLSelectElement;
      select.value = 'plus';
      select.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await expect.poll(() => pageEvents(customer)).toContain('plan:plus');
    await clickInReplay(alice, '#name');
    await alice.keyboard.press('Enter');
    await expect.poll(() => pageEvents(customer)).toContain('submit');
    // Wheel over the replay scrolls the customer's page.
    const middle = await agentPoint(alice, '#log');
    await alice.mouse.move(middle.x, middle.y);
    await alice.mouse.wheel(0, 200);
    await expect.poll(() => customer.evaluate(() => scrollY)).toBeGreaterThan(100);
    await customer.evaluate(() => window.scrollTo(0, 0));
    await expect.poll(() => alice.evaluate(() => (window as any).agent.iframe.contentWindow.scrollY)).toBe(0);

    // Never: a masked field, or anything inside [data-cobrowse-no-control]. The agent sees "Not allowed".
    await clickInReplay(alice, '#policy');
    await alice.keyboard.type('x');
    await expect(alice.locator('[data-cobrowse-refused]').first()).toBeVisible();
    const refusals = await alice.evaluateHandle(() => {
      const list: string[] = [];
      (window as any).agent.on('refused', (e: any) => list.push(e.reason));
      return list;
    });
    await clickInReplay(alice, '#danger');
    // Nor a file input, nor a link to another origin.
    await clickInReplay(alice, '#file');
    await clickInReplay(alice, '#away');
    // (Leaving the masked field also sends its final value: refused as "masked" too.)
    await expect
      .poll(() => refusals.evaluate((l) => l.filter((reason) => reason !== 'masked')))
      .toEqual(['no-control', 'file', 'other-origin']);
    expect(customer.url()).toContain('/e2e/pages/tools.html');
    await clickInReplay(alice, '#save');
    await expect.poll(async () => (await pageEvents(customer)).filter((e) => e === 'saved').length).toBe(2);
    const events = await pageEvents(customer);
    expect(events.filter((e) => e.startsWith('policy') || e === 'deleted')).toEqual([]);
    await expect(customer.locator('#policy')).toHaveValue('');

    // A forged control frame from a watching agent (Bob) does nothing, even naming Alice's connection.
    await bob.evaluate(() => {
      const s = (window as any).agent;
      const doc = s.iframe.contentDocument;
      const id = s.player.replayer.getMirror().getId(doc.querySelector('#save'));
      s.channel.sendMessage({ type: 'agent', op: 400, id, from: 'forged', user: 'alice', name: 'Alice' });
      s.channel.sendMessage({ type: 'control', state: 'granted', agent: 'x' });
    });
    // Bob's socket is closed for sending a recorder-only frame; Alice's control is untouched.
    await expect.poll(() => bob.evaluate(() => (window as any).cobrowseLog.join())).toContain('may not send');
    await clickInReplay(alice, '#save');
    await expect.poll(async () => (await pageEvents(customer)).filter((e) => e === 'saved').length).toBe(3);

    // "Take back control" ends it at once: the agent is told, and its input no longer acts.
    await indicator.click();
    await expect(indicator).toBeHidden();
    await expect.poll(() => alice.evaluate(() => (window as any).agent.control)).toBe('none');
    await alice.evaluate(() => {
      const s = (window as any).agent;
      const id = s.player.replayer.getMirror().getId(s.iframe.contentDocument.querySelector('#save'));
      s.channel.sendMessage({ type: 'agent', op: 400, id });
      s.highlight(s.iframe.contentDocument.querySelector('#save'));
    });
    await expect(customer.locator('[data-cobrowse-highlight]')).toHaveCount(1);
    expect((await pageEvents(customer)).filter((e) => e === 'saved').length).toBe(3);
    expect(await customerEvents.evaluate((l) => l.at(-1))).toBe('ended:Alice');
  });

  test('with default options nothing typed is allowed; control: false never asks; a reload ends control', async ({
    browser,
    context,
    site,
    relay,
  }) => {
    const where = { site, relay, room: roomId() };
    const customer = await openCustomer(context, where, 'tools.html', {});
    const alice = await openAgent(browser, where, 'Alice');
    expect(await askControl(alice, customer, 'Allow', 'Alice')).toBe(true);
    // maskAllInputs (default true): text fields are masked, so not agent-editable; buttons still click.
    await clickInReplay(alice, '#name');
    await alice.keyboard.type('x');
    await expect(alice.locator('[data-cobrowse-refused]').first()).toBeVisible();
    await clickInReplay(alice, '#save');
    await expect.poll(() => pageEvents(customer)).toContain('saved');
    expect((await pageEvents(customer)).filter((e) => e.startsWith('input'))).toEqual([]);
    // A reload resumes sharing, never control.
    await customer.reload();
    await customer.evaluate(() => (window as any).cobrowseReady.then(() => (window as any).cobrowseStart({})));
    await expect.poll(() => alice.evaluate(() => (window as any).agent.control)).toBe('none');
    await expect(customer.getByRole('button', { name: /Take back control/ })).toHaveCount(0);

    const room2 = { ...where, room: roomId() };
    const strict = await openCustomer(context, room2, 'tools.html', { control: false });
    const bob = await openAgent(browser, room2, 'Bob');
    expect(await bob.evaluate(() => (window as any).agent.requestControl())).toBe(false);
    await expect(strict.getByRole('dialog')).toHaveCount(0);
  });

  test('a React page: the agent types into a controlled input and clicks; React handlers run', async ({
    browser,
    context,
    site,
    relay,
  }) => {
    execFileSync(
      join(REPO, 'node_modules/.bin/esbuild'),
      [
        join(REPO, 'e2e/pages/react-app.jsx'),
        '--bundle',
        '--minify',
        '--define:process.env.NODE_ENV="production"',
        `--outfile=${join(REPO, 'e2e/pages/react-app.gen.js')}`,
        '--log-level=warning',
      ],
      { stdio: 'inherit' },
    );
    const where = { site, relay, room: roomId() };
    const customer = await openCustomer(context, where, 'react.html', {
      maskAllInputs: false,
      onControlRequest: undefined,
    });
    await expect(customer.locator('#echo')).toHaveText('Hello ');
    const alice = await openAgent(browser, where, 'Alice');
    expect(await askControl(alice, customer, 'Allow', 'Alice')).toBe(true);
    await clickInReplay(alice, '#name');
    await alice.keyboard.type('Ada');
    await expect(customer.locator('#echo')).toHaveText('Hello Ada');
    await expect(customer.locator('#name')).toHaveValue('Ada');
    await clickInReplay(alice, '#save');
    await clickInReplay(alice, '#save');
    await expect(customer.locator('#clicks')).toHaveText('Clicked 2');
  });
});
