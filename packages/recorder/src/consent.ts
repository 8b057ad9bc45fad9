/**
 * The customer's consent prompt for remote control: a real dialog in the overlay's shadow root,
 * naming the agent, with "Allow" and "Deny" buttons. Keyboard reachable: it takes focus (on
 * "Deny", the safe choice), Tab moves between its buttons and Escape denies. Resolves false when
 * the customer does not answer within `timeoutMs`.
 */
export interface Consent {
  readonly answer: Promise<boolean>;
  /** Withdraws the prompt (the agent left or gave up): the answer is false. */
  cancel(): void;
}

export function askConsent(root: ShadowRoot, mount: () => void, agentName: string, timeoutMs: number): Consent {
  let cancel: () => void = () => undefined;
  const answer = new Promise<boolean>((resolve) => {
    mount();
    const previous = document.activeElement as HTMLElement | null;
    const dialog = document.createElement('div');
    dialog.className = 'prompt';
    dialog.setAttribute('role', 'dialog');
    dialog.setAttribute('aria-modal', 'false');
    dialog.setAttribute('aria-labelledby', 'cobrowse-consent-title');
    dialog.setAttribute('aria-describedby', 'cobrowse-consent-text');
    dialog.innerHTML = `<h2 id="cobrowse-consent-title"></h2><p id="cobrowse-consent-text"></p><div class="actions"><button type="button" class="deny">Deny</button><button type="button" class="allow"></button></div>`;
    dialog.querySelector('h2')!.textContent = `${agentName} asks to control this page`;
    dialog.querySelector('p')!.textContent =
      `${agentName} will be able to click, type and scroll on this page for you. You can take back control at any time.`;
    const allow = dialog.querySelector<HTMLButtonElement>('.allow')!;
    const deny = dialog.querySelector<HTMLButtonElement>('.deny')!;
    allow.textContent = `Allow ${agentName}`;
    deny.setAttribute('aria-label', `Deny ${agentName} control`);
    let done = false;
    const finish = (answer: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      dialog.remove();
      // Give focus back where the customer was, if the dialog still had it.
      if (root.activeElement === null && previous?.isConnected) {
        try {
          previous.focus({ preventScroll: true });
        } catch {
          // not focusable any more
        }
      }
      resolve(answer);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    allow.addEventListener('click', () => finish(true));
    deny.addEventListener('click', () => finish(false));
    dialog.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') finish(false);
      else if (event.key === 'Tab') {
        // Keep Tab within the dialog's two buttons.
        event.preventDefault();
        (root.activeElement === allow ? deny : allow).focus();
      }
    });
    root.appendChild(dialog);
    deny.focus({ preventScroll: true });
    cancel = () => finish(false);
  });
  return { answer, cancel: () => cancel() };
}
