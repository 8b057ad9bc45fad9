import { expect, openAgent, openCustomer, replayText, roomId, test } from './support/cobrowse.js';

test('a hostile customer page runs nothing in the agent page and navigates nothing', async ({
  context,
  site,
  relay,
}) => {
  const room = roomId();
  const customer = await openCustomer(context, site, relay, room, 'hostile.html');
  // A <base> pointing elsewhere (added once the page's own scripts have loaded).
  await customer.evaluate(() => {
    const base = document.createElement('base');
    base.href = 'http://127.0.0.1:9/evil-base/';
    document.head.prepend(base);
  });
  // The customer's own page is left alone by the SDK: its scripts run.
  expect(await customer.evaluate(() => (window as any).customerScriptRan)).toBe(true);
  const agent = await openAgent(context, site, relay, room);
  const agentUrl = agent.url();
  const exfil: string[] = [];
  agent.on('request', (request) => {
    if (/exfil|evil-base|hijacked/.test(request.url())) exfil.push(request.url());
  });
  // More hostile markup arrives as mutations after the snapshot.
  await customer.evaluate(() => {
    const later = document.createElement('div');
    later.innerHTML =
      '<meta http-equiv="refresh" content="1;url=/e2e/pages/agent.html?hijacked">' +
      '<img src="data:," onerror="top.pwned = (top.pwned || 0) + 1">' +
      '<iframe srcdoc="<script>top.pwned = (top.pwned || 0) + 1</script>"></iframe>' +
      '<p id="later">later</p>';
    document.body.appendChild(later);
    document.getElementById('title')!.setAttribute('onclick', 'top.pwned = 1');
  });
  await expect.poll(() => replayText(agent, '#later')).toBe('later');
  // Try the links and the form from the agent side.
  await agent.evaluate(() => {
    const doc = (window as any).agent.iframe.contentDocument as Document;
    (doc.getElementById('js-link') as HTMLAnchorElement)?.click();
    (doc.getElementById('top-link') as HTMLAnchorElement)?.click();
    (doc.getElementById('title') as HTMLElement)?.click();
    (doc.getElementById('send') as HTMLButtonElement)?.click();
  });
  await agent.waitForTimeout(1500); // past the meta refresh's 1 s
  expect(await agent.evaluate(() => (window as any).pwned)).toBeUndefined();
  expect(agent.url()).toBe(agentUrl);
  expect(await replayText(agent, '#title')).toBe('Hostile page'); // the replay was not navigated away
  expect(exfil).toEqual([]);
  const sandbox = await agent.evaluate(() => (window as any).agent.iframe.getAttribute('sandbox'));
  expect(sandbox).toBe('allow-same-origin');
  const html = await agent.evaluate(
    () => (window as any).agent.iframe.contentDocument.documentElement.outerHTML as string,
  );
  for (const bad of ['onerror=', 'onload=', 'onclick=', 'javascript:', 'srcdoc=', 'http-equiv', 'evil-base'])
    expect(html, bad).not.toContain(bad);
});
