import { expect, inReplay, openAgent, openCustomer, roomId, test } from './support/cobrowse.js';

// rrweb rewrites the page's stylesheets for replay (postcss): each `:hover` rule gets a twin that
// matches a class it sets where the customer's pointer is, and device-size media queries become
// viewport ones. The replayer hands rrweb the sheets that need neither as they are (they would come
// out of postcss unchanged): these tests hold both halves.
test("the replay's stylesheets: rewritten where rrweb rewrites them, as the customer's page has them otherwise", async ({
  context,
  site,
  relay,
}) => {
  const room = roomId();
  const customer = await openCustomer(context, site, relay, room, 'styles.html');
  const agent = await openAgent(context, site, relay, room);
  const sheets = (doc: Document) =>
    Object.fromEntries(['plain', 'hover', 'device', 'added'].map((id) => [id, doc.getElementById(id)?.textContent]));

  // In the full snapshot.
  const replayed = await inReplay(agent, sheets);
  // rrweb serialises a sheet from the browser's parsed rules (its `cssText`), so compare with those.
  const parsed = await customer.evaluate(() =>
    Object.fromEntries(
      ['plain', 'hover', 'device'].map((id) => [
        id,
        Array.from((document.getElementById(id) as HTMLStyleElement).sheet!.cssRules, (rule) => rule.cssText).join(''),
      ]),
    ),
  );
  expect(parsed.plain).toContain('.card');
  expect(replayed.plain).toBe(parsed.plain);
  expect(replayed.hover).toContain('.\\:hover');
  expect(replayed.device).not.toContain('device');
  expect(replayed.device).toContain('max-width: 10000px');
  expect(await inReplay(agent, (doc) => getComputedStyle(doc.getElementById('title')!).color)).toBe('rgb(0, 90, 0)');

  // Added later (a mutation): the same.
  await customer.evaluate(() => {
    const style = document.createElement('style');
    style.id = 'added';
    style.textContent = '.card p { letter-spacing: 1px }\n.card:hover { outline: 1px solid red }';
    document.head.appendChild(style);
  });
  await expect
    .poll(() => inReplay(agent, (doc) => doc.getElementById('added')?.textContent ?? ''))
    .toContain('\\:hover');
  const plainAdded = '#title { text-decoration: underline; }';
  await customer.evaluate((text) => {
    const style = document.createElement('style');
    style.id = 'plain-added';
    style.textContent = text;
    document.head.appendChild(style);
  }, plainAdded);
  await expect
    .poll(() => inReplay(agent, (doc) => getComputedStyle(doc.getElementById('title')!).textDecorationLine))
    .toBe('underline');
  expect(await inReplay(agent, (doc) => doc.getElementById('plain-added')?.textContent)).toBe(plainAdded);

  // The cache that lets those sheets skip postcss is in place (it sits in rrweb's private cache: an
  // rrweb that renamed it would silently put every sheet through postcss again), and it is bounded:
  // rrweb's own kept every rewritten sheet for the replay's life.
  const cache = await agent.evaluate(() => {
    const sheets = (window as any).agent.player.replayer.cache.stylesWithHoverClass as Map<string, string>;
    const answers = [sheets.get('a{color:red}'), sheets.get('a:hover{color:red}') ?? 'postcss'];
    const big = 'x'.repeat(3 * 1024 * 1024);
    for (let i = 0; i < 4; i++) sheets.set(`a:hover{content:"${i}${big}"}`, big);
    return { answers, kept: sheets.size };
  });
  expect(cache).toEqual({ answers: ['a{color:red}', 'postcss'], kept: 1 });
});
