// The side-by-side setup of the profiling scripts (join-profile, burst-profile, burst-trace): our
// relay and the naive one, the bench pages' static server and Chromium, started together.
import { launchBrowser } from '../../test-support/browser.mjs';
import { startRelay, startSite } from '../../test-support/processes.mjs';
import { startNaiveRelay } from './naive-relay.mjs';

/**
 * Starts them all; `url(page, side, room, extra)` names a bench page wired to that side's relay.
 * `PEERS_RELAY_ARGS='--config relay.json'` passes more arguments to our relay (an A/B of an option).
 */
export async function startPeers({ query = {} } = {}) {
  const [relay, naive, site, browser] = await Promise.all([
    startRelay(['--dev', ...(process.env.PEERS_RELAY_ARGS ?? '').split(/\s+/).filter(Boolean)]),
    startNaiveRelay(),
    startSite(),
    launchBrowser(),
  ]);
  const url = (page, side, room, extra = {}) =>
    `${site.url}/bench/pages/${page}?${new URLSearchParams({ mode: side, relay: side === 'ours' ? relay.url : naive.url, room, ...query, ...extra })}`;
  return { relay, naive, site, browser, url };
}
