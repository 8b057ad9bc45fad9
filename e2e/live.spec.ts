import { expect, inReplay, openAgent, openCustomer, pageUrl, replayText, roomId, test } from './support/cobrowse.js';

test.describe('live co-browsing', () => {
  test('the agent sees the customer page, and a DOM change arrives', async ({ context, site, relay }) => {
    const room = roomId();
    const customer = await openCustomer(context, site, relay, room);
    const agent = await openAgent(context, site, relay, room);
    await expect.poll(() => replayText(agent, '#title')).toBe('Acme Insurance — Claim form');
    await expect.poll(() => replayText(agent, '#claims tbody')).toContain('Bicycle');
    await customer.evaluate(() => (window as any).addRow('Laptop'));
    await expect.poll(() => replayText(agent, '#claims tbody')).toContain('Laptop');
    // The replay is the customer's viewport size, scaled to fit the agent's 800×600 container.
    const viewport = customer.viewportSize()!;
    const iframe = agent.locator('#screen iframe');
    expect(await iframe.getAttribute('width')).toBe(String(viewport.width));
    const box = (await iframe.boundingBox())!;
    expect(box.width).toBeLessThanOrEqual(801);
    expect(box.height).toBeLessThanOrEqual(601);
    expect(Math.abs(box.width / box.height - viewport.width / viewport.height)).toBeLessThan(0.01);
  });

  test('typed values arrive masked; password, card and marked fields never leave the page', async ({
    context,
    site,
    relay,
  }) => {
    const room = roomId();
    const customer = await openCustomer(context, site, relay, room);
    const agent = await openAgent(context, site, relay, room);
    await customer.fill('#name', 'Alice Smith');
    await customer.fill('#password', 'hunter2');
    await customer.fill('#card', '4111111111111111');
    await customer.fill('#policy', 'POL-99');
    await customer.fill('#notes', 'call me');
    const value = (sel: string) =>
      agent.evaluate((s) => (window as any).agent.iframe.contentDocument.querySelector(s).value as string, sel);
    await expect.poll(() => value('#name')).toBe('*'.repeat('Alice Smith'.length));
    await expect.poll(() => value('#notes')).toBe('*'.repeat('call me'.length));
    for (const sel of ['#password', '#card', '#policy']) {
      await expect.poll(() => value(sel)).toBe('••••••••');
    }
    // Masked text and blocked regions: neither the text nor the block's content reach the agent.
    expect(await replayText(agent, '#secret-text')).not.toContain('12345678');
    expect(await replayText(agent, '#blocked')).toBeFalsy();
    const html = await inReplay(agent, (doc) => doc.documentElement.outerHTML);
    for (const secret of ['hunter2', '4111111111111111', 'POL-99', 'Alice', 'VIP', '12345678'])
      expect(html).not.toContain(secret);
    // The sharing indicator is never part of the replay.
    expect(html).not.toContain('You are sharing');
  });

  test('window scroll and inner scroller positions arrive', async ({ context, site, relay }) => {
    const room = roomId();
    const customer = await openCustomer(context, site, relay, room);
    const agent = await openAgent(context, site, relay, room);
    await customer.evaluate(() => window.scrollTo(0, 900));
    await customer.evaluate(() => (document.getElementById('scroller')!.scrollTop = 400));
    await expect.poll(() => agent.evaluate(() => (window as any).agent.iframe.contentWindow.scrollY)).toBe(900);
    await expect.poll(() => inReplay(agent, (doc) => doc.getElementById('scroller')!.scrollTop)).toBe(400);
  });

  test('the text the customer selects is selected in the replay', async ({ context, site, relay }) => {
    const room = roomId();
    const customer = await openCustomer(context, site, relay, room);
    const agent = await openAgent(context, site, relay, room);
    await customer.evaluate(() => {
      const text = document.getElementById('title')!.firstChild!;
      document.getSelection()!.setBaseAndExtent(text, 0, text, 'Acme Insurance'.length);
    });
    await expect.poll(() => inReplay(agent, (doc) => doc.getSelection()?.toString())).toBe('Acme Insurance');
  });

  test('a resized customer window resizes the replay', async ({ context, site, relay }) => {
    const room = roomId();
    const customer = await openCustomer(context, site, relay, room);
    const agent = await openAgent(context, site, relay, room);
    const iframe = agent.locator('#screen iframe');
    expect(await iframe.getAttribute('width')).toBe(String(customer.viewportSize()!.width));
    await customer.setViewportSize({ width: 700, height: 500 });
    await expect.poll(() => iframe.getAttribute('width')).toBe('700');
    await expect.poll(() => iframe.getAttribute('height')).toBe('500');
    await expect.poll(() => agent.evaluate(() => (window as any).agent.iframe.contentWindow.innerWidth)).toBe(700);
    // The agent's container shrinks: the replay is scaled to fit it again.
    await agent.evaluate(() =>
      Object.assign(document.querySelector<HTMLElement>('#screen')!.style, { width: '350px' }),
    );
    await expect.poll(async () => (await iframe.boundingBox())!.width).toBeLessThanOrEqual(351);
    const box = (await iframe.boundingBox())!;
    expect(Math.abs(box.width / box.height - 700 / 500)).toBeLessThan(0.01);
  });

  test('on a page that allows scripts by nonce, the recorder passes its nonce to the compressor it loads', async ({
    context,
    site,
    relay,
  }) => {
    const room = roomId();
    const customer = await context.newPage();
    const blocked: string[] = [];
    // (The compression worker, a blob: script, is refused by this policy too: the recorder then
    // deflates on the main thread, as e2e/recorder-cost.spec.ts checks.)
    customer.on('console', (m) => m.text().includes('recorder-deflate') && blocked.push(m.text()));
    await customer.goto(pageUrl(site, relay, 'nonce-csp.html', room));
    await customer.evaluate(
      (src) =>
        new Promise((resolve, reject) => {
          const script = document.createElement('script');
          script.nonce = 'e2e-nonce';
          script.src = src;
          script.onload = resolve;
          script.onerror = reject;
          document.head.appendChild(script);
        }),
      `${relay.url}/sdk/recorder.js`,
    );
    await customer.evaluate(
      ({ server, room }) =>
        (window as any).CobrowseRecorder.start({
          server,
          roomId: room,
          headers: { 'ccmessaging-token': 'dev' },
          indicator: false,
        }).then((s: any) => ((window as any).cobrowse = s)),
      { server: relay.url, room },
    );
    await expect.poll(() => customer.evaluate(() => typeof (window as any).CobrowseDeflate)).toBe('object');
    const agent = await openAgent(context, site, relay, room);
    await customer.evaluate(() => (document.getElementById('list')!.innerHTML = '<li>one</li><li>two</li>'));
    await expect.poll(() => replayText(agent, '#list')).toBe('onetwo');
    expect(blocked).toEqual([]);
  });

  test('mouse position and clicks arrive', async ({ context, site, relay }) => {
    const room = roomId();
    const customer = await openCustomer(context, site, relay, room);
    const agent = await openAgent(context, site, relay, room);
    await customer.mouse.move(50, 50);
    await customer.mouse.move(300, 200, { steps: 5 });
    await expect
      .poll(() => agent.evaluate(() => (document.querySelector('.replayer-mouse') as HTMLElement | null)?.style.left))
      .toBe('300px');
    await customer.click('#submit');
    await expect
      .poll(() => agent.evaluate(() => document.querySelector('.replayer-mouse')?.classList.contains('active')))
      .toBe(true);
  });

  test('a late-joining agent sees the current page, not the first one', async ({ context, site, relay }) => {
    const room = roomId();
    const customer = await openCustomer(context, site, relay, room);
    const early = await openAgent(context, site, relay, room);
    for (let i = 0; i < 30; i++) await customer.evaluate((n) => (window as any).addRow(`row-${n}`), i);
    await customer.evaluate(() => {
      document.getElementById('title')!.textContent = 'Changed after the start';
      window.scrollTo(0, 600);
    });
    await expect.poll(() => replayText(early, '#title')).toBe('Changed after the start');
    const late = await openAgent(context, site, relay, room);
    await expect.poll(() => replayText(late, '#title')).toBe('Changed after the start');
    expect(await replayText(late, '#claims tbody')).toContain('row-29');
    await expect.poll(() => late.evaluate(() => (window as any).agent.iframe.contentWindow.scrollY)).toBe(600);
    // And it stays live: later changes reach it too.
    await customer.evaluate(() => (window as any).addRow('after late join'));
    await expect.poll(() => replayText(late, '#claims tbody')).toContain('after late join');
  });

  test('two agents watch one customer', async ({ context, site, relay }) => {
    const room = roomId();
    const customer = await openCustomer(context, site, relay, room);
    const first = await openAgent(context, site, relay, room);
    const second = await openAgent(context, site, relay, room);
    await customer.evaluate(() => (window as any).addRow('seen by both'));
    await expect.poll(() => replayText(first, '#claims tbody')).toContain('seen by both');
    await expect.poll(() => replayText(second, '#claims tbody')).toContain('seen by both');
    // The customer's indicator says how many agents watch.
    await expect(customer.locator('[data-cobrowse-indicator]')).toContainText('2 agents');
    await second.evaluate(() => (window as any).agent.leave());
    await expect(customer.locator('[data-cobrowse-indicator]')).toContainText('an agent');
  });

  test('the indicator shows sharing and its Stop button ends the session on both sides', async ({
    context,
    site,
    relay,
  }) => {
    const room = roomId();
    const customer = await openCustomer(context, site, relay, room);
    const agent = await openAgent(context, site, relay, room);
    const stop = customer.getByRole('button', { name: /Stop/ });
    await expect(stop).toBeVisible();
    await expect(customer.getByRole('status')).toContainText('You are sharing this page');
    await stop.click();
    await expect.poll(() => customer.evaluate(() => (window as any).cobrowse.status)).toBe('ended');
    await expect(customer.locator('[data-cobrowse-indicator]')).toHaveCount(0);
    await expect.poll(() => agent.evaluate(() => (window as any).agent.status)).toBe('ended');
    await expect(agent.locator('.cobrowse-status')).toContainText('ended');
    // Nothing more is sent: a later change does not reach the agent.
    await customer.evaluate(() => (window as any).addRow('after stop'));
    await customer.waitForTimeout(300);
    expect(await replayText(agent, '#claims tbody')).not.toContain('after stop');
  });

  test('markup that tries to run script does not run it in the agent page', async ({ context, site, relay }) => {
    const room = roomId();
    const customer = await openCustomer(context, site, relay, room);
    const agent = await openAgent(context, site, relay, room);
    await customer.evaluate(() => {
      const box = document.createElement('div');
      box.id = 'hostile';
      box.innerHTML =
        '<img src="data:," onerror="top.pwned = (top.pwned || 0) + 1">' +
        '<svg onload="top.pwned = (top.pwned || 0) + 1"><circle r="5"/></svg>' +
        '<a id="jslink" href="javascript:top.pwned=(top.pwned||0)+1">link</a>' +
        '<iframe srcdoc="<script>top.pwned = (top.pwned || 0) + 1</script>"></iframe>' +
        '<p id="hostile-done">hostile markup</p>';
      const script = document.createElement('script');
      script.textContent = 'window.customerRan = true; try { top.pwned = (top.pwned || 0) + 1 } catch (e) {}';
      box.appendChild(script);
      document.body.appendChild(box);
    });
    await expect.poll(() => replayText(agent, '#hostile-done')).toBe('hostile markup');
    await agent.evaluate(() => (window as any).agent.iframe.contentDocument.getElementById('jslink')?.click());
    await agent.waitForTimeout(300);
    expect(await agent.evaluate(() => (window as any).pwned)).toBeUndefined();
    expect(await agent.evaluate(() => (window as any).agent.iframe.getAttribute('sandbox'))).not.toContain(
      'allow-scripts',
    );
    // The customer page itself still ran its own script: the SDK does not interfere with the page.
    expect(await customer.evaluate(() => (window as any).customerRan)).toBe(true);
  });

  for (const skewMinutes of [5, -5]) {
    test(`a customer whose clock is ${skewMinutes > 0 ? 'ahead' : 'behind'} by 5 minutes is still live for the agent`, async ({
      browser,
      site,
      relay,
    }) => {
      const room = roomId();
      const customerContext = await browser.newContext();
      await customerContext.addInitScript((skew) => {
        const realNow = Date.now.bind(Date);
        const RealDate = Date;
        Date.now = () => realNow() + skew;
        // new Date() too, for code that reads the clock that way.
        (globalThis as any).Date = class extends RealDate {
          constructor(...args: any[]) {
            super(...((args.length ? args : [realNow() + skew]) as []));
          }
          static now() {
            return realNow() + skew;
          }
        };
      }, skewMinutes * 60_000);
      const customer = await openCustomer(customerContext, site, relay, room);
      expect(Math.abs((await customer.evaluate(() => Date.now())) - Date.now() - skewMinutes * 60_000)).toBeLessThan(
        5000,
      );
      const agentContext = await browser.newContext();
      const agent = await openAgent(agentContext, site, relay, room);
      // When each row shows in the replay, on the browser's clock (performance.timeOrigin + now: the
      // customer's skewed Date does not touch it): the test's own round trips to two pages on a busy
      // machine are not the SDK's latency.
      await agent.evaluate(() => {
        const w = window as any;
        const doc = w.agent.iframe.contentDocument as Document;
        w.shownAt = {};
        new MutationObserver(() => {
          for (const td of doc.querySelectorAll('#claims tbody td')) {
            const text = td.textContent ?? '';
            if (text.startsWith('skewed-') && !(text in w.shownAt))
              w.shownAt[text] = performance.timeOrigin + performance.now();
          }
        }).observe(doc, { subtree: true, childList: true, characterData: true });
      });
      const latencies: number[] = [];
      for (let i = 0; i < 5; i++) {
        const addedAt = await customer.evaluate((n) => {
          const at = performance.timeOrigin + performance.now();
          (window as any).addRow(`skewed-${n}`);
          return at;
        }, i);
        await expect.poll(() => replayText(agent, '#claims tbody'), { timeout: 10_000 }).toContain(`skewed-${i}`);
        const shownAt = await agent.evaluate((text) => (window as any).shownAt[text] as number, `skewed-${i}`);
        // A clock 5 minutes off would hold the row for 5 minutes if the replay trusted the customer's
        // timestamps; a second is far from that and leaves room for a loaded machine.
        latencies.push(Math.round(shownAt - addedAt));
        expect(shownAt - addedAt).toBeLessThan(1000);
      }
      console.log(
        `clock ${skewMinutes > 0 ? '+' : ''}${skewMinutes} min: rows shown ${latencies.join(', ')} ms after they were added`,
      );
      // Order holds: rows appear in the order they were added.
      const rows = await inReplay(agent, (doc) =>
        [...doc.querySelectorAll('#claims tbody td:nth-child(2)')].map((td) => td.textContent),
      );
      expect(rows.filter((r) => r!.startsWith('skewed-'))).toEqual([
        'skewed-0',
        'skewed-1',
        'skewed-2',
        'skewed-3',
        'skewed-4',
      ]);
      await customerContext.close();
      await agentContext.close();
    });
  }
});

test('a page that fails to reach the relay gets a clear rejection from start()', async ({ page, site, relay }) => {
  await page.goto(pageUrl(site, relay, 'customer.html', roomId(), '&auto=0'));
  await page.evaluate(() => (window as any).cobrowseReady);
  const message = await page.evaluate(
    (server) =>
      (window as any).CobrowseRecorder.start({ server, roomId: 'r1', headers: { 'ccmessaging-token': 'wrong' } }).then(
        () => 'resolved',
        (e: Error) => e.message,
      ),
    relay.url,
  );
  expect(message).toContain('invalid ccmessaging-token');
});
