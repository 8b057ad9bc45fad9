/**
 * The customer's "You are sharing this page — Stop" badge: an open shadow root (styles of the page
 * cannot reach it, tests and assistive tools can), marked so rrweb never records it.
 */
export interface Indicator {
  setAgents(count: number): void;
  setStatus(text: string | undefined): void;
  /** Who controls the page remotely (undefined: nobody); shows the "Take back control" button while someone does. */
  setController(name: string | undefined): void;
  /** Whether the relay records the session: the badge then says "This session is recorded". */
  setRecorded(on: boolean): void;
  remove(): void;
}

const STYLE = `
:host { all: initial; }
.badge { position: fixed; z-index: 2147483647; right: 16px; bottom: 16px; display: flex; align-items: center; gap: 10px;
  padding: 8px 8px 8px 14px; border-radius: 999px; background: #1d2b3a; color: #fff; box-shadow: 0 4px 16px rgba(0,0,0,.3);
  font: 500 14px/1.2 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.dot { width: 10px; height: 10px; border-radius: 50%; background: #e5484d; box-shadow: 0 0 0 3px rgba(229,72,77,.35); }
.status { opacity: .75; font-weight: 400; }
.recorded { font-weight: 400; font-size: 12px; }
.recorded[hidden] { display: none; }
button { all: unset; cursor: pointer; padding: 6px 14px; border-radius: 999px; background: #fff; color: #1d2b3a; font-weight: 600; }
button:focus-visible { outline: 3px solid #7cc4ff; outline-offset: 2px; }
[hidden] { display: none !important; }
.control { font-weight: 600; }
`;

export function showIndicator(onStop: () => void, onTakeBack: () => void = () => undefined): Indicator {
  const host = document.createElement('div');
  host.setAttribute('data-cobrowse-indicator', '');
  // rrweb keeps a blocked element's class: the agent's (empty, 0×0) placeholder stays recognisable.
  host.className = 'cobrowse-indicator';
  // A zero-size fixed host: rrweb blocks it, and the placeholder it leaves is invisible.
  host.style.cssText = 'position:fixed;width:0;height:0;overflow:visible;z-index:2147483647;';
  const root = host.attachShadow({ mode: 'open' });
  root.innerHTML = `<style>${STYLE}</style><div class="badge" role="status" aria-live="polite"><span class="dot" aria-hidden="true"></span><span class="label">You are sharing this page</span><span class="status"></span><span class="control" hidden></span><span class="recorded" hidden>This session is recorded</span><button type="button" class="take-back" hidden>Take back control</button><button type="button" class="stop">Stop sharing</button></div>`;
  const label = root.querySelector('.label')!;
  const status = root.querySelector('.status')!;
  root.querySelector('.stop')!.addEventListener('click', () => onStop());
  const control = root.querySelector<HTMLElement>('.control')!;
  const takeBack = root.querySelector<HTMLButtonElement>('.take-back')!;
  takeBack.addEventListener('click', () => onTakeBack());
  const recorded = root.querySelector<HTMLElement>('.recorded')!;
  const mount = () => (document.body ?? document.documentElement).appendChild(host);
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount, { once: true });
  return {
    setAgents(count) {
      label.textContent =
        count > 0
          ? `You are sharing this page with ${count === 1 ? 'an agent' : `${count} agents`}`
          : 'You are sharing this page';
    },
    setStatus(text) {
      status.textContent = text ? `(${text})` : '';
    },
    setRecorded(on) {
      recorded.hidden = !on;
    },
    setController(name) {
      control.hidden = takeBack.hidden = !name;
      control.textContent = name ? `${name} is controlling this page` : '';
    },
    remove() {
      document.removeEventListener('DOMContentLoaded', mount);
      host.remove();
    },
  };
}
