import { AgentOp, type AgentAction } from '@cobrowse/protocol';
import { alwaysMasked } from './privacy.js';

/**
 * Performs a controlling agent's action on the customer's page as real events at the element it
 * targets, so the page's own listeners run (plain `click`/`input`/`change`/`submit` handlers and
 * React, Vue or Lit alike). Returns undefined when done, or why it was not allowed (nothing happened).
 */

/** Never driven remotely, whatever the options. */
export const NO_CONTROL = '[data-cobrowse-no-control]';

export interface ActPolicy {
  /** Whether every field is masked (the default): then no field is agent-editable. */
  maskAll: boolean;
  maskSelector?: string;
  /** Elements that are never acted on (the SDK's own UI, blocked regions). */
  ownSelector: string;
}

const FIELD_TAGS = new Set(['INPUT', 'TEXTAREA', 'SELECT']);
/** Input types whose value is typed (agents set them with SetValue). */
const TEXT_TYPES = new Set([
  'text',
  'search',
  'email',
  'tel',
  'url',
  'number',
  'date',
  'datetime-local',
  'month',
  'time',
  'week',
  'color',
  'range',
  '',
]);

function closest(element: Element, selector: string | undefined): boolean {
  if (!selector) return false;
  try {
    return element.closest(selector) !== null;
  } catch {
    return false;
  }
}

/** Why an agent may not act on this element, or undefined when it may. */
export function refusal(element: Element, policy: ActPolicy): string | undefined {
  if (closest(element, NO_CONTROL)) return 'no-control';
  if (closest(element, policy.ownSelector)) return 'no-control';
  const field = element.closest('input, textarea, select, [contenteditable]') ?? element;
  if (FIELD_TAGS.has(field.tagName)) {
    const type = ((field as HTMLInputElement).type ?? '').toLowerCase();
    if (type === 'file') return 'file';
    const toggle = type === 'checkbox' || type === 'radio';
    const button = type === 'button' || type === 'submit' || type === 'reset' || type === 'image';
    if (alwaysMasked(field as HTMLElement, policy.maskSelector)) return 'masked';
    // A masked field's value never reaches the agent, so the agent may not change it either.
    if (policy.maskAll && !toggle && !button) return 'masked';
  }
  return undefined;
}

/** Whether following this link or submitting this form would leave the page's origin. */
function leavesOrigin(url: string | null | undefined): boolean {
  if (!url) return false;
  try {
    const target = new URL(url, location.href);
    if (target.protocol === 'javascript:') return true;
    return target.origin !== location.origin;
  } catch {
    return true;
  }
}

function fire(target: EventTarget, event: Event): boolean {
  return target.dispatchEvent(event);
}

function mouse(type: string, element: Element, init: MouseEventInit): MouseEvent {
  return new MouseEvent(type, { bubbles: true, cancelable: true, composed: true, view: window, ...init });
}

/** Sets a field's value through the native setter (so React's value tracker sees a change), then `input`. */
function setNativeValue(element: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement, value: string): void {
  const proto = Object.getPrototypeOf(element) as object;
  const setter = Object.getOwnPropertyDescriptor(proto, 'value')?.set;
  if (setter) setter.call(element, value);
  else element.value = value;
}

function click(element: Element, action: AgentAction): string | undefined {
  const link = element.closest('a[href], area[href]') as HTMLAnchorElement | null;
  if (link && (leavesOrigin(link.href) || (link.target && link.target !== '_self'))) return 'other-origin';
  const submitter = element.closest('button, input[type=submit], input[type=image]') as HTMLInputElement | null;
  const form = submitter?.form;
  const submits = submitter?.type === 'submit' || submitter?.type === 'image';
  if (form && submits && leavesOrigin(submitter!.formAction || form.action)) return 'other-origin';
  const box = element.getBoundingClientRect();
  const init = {
    clientX: typeof action.x === 'number' ? action.x : box.left + box.width / 2,
    clientY: typeof action.y === 'number' ? action.y : box.top + box.height / 2,
    button: 0,
  };
  const pointer = (type: string) =>
    typeof PointerEvent === 'function'
      ? new PointerEvent(type, {
          bubbles: true,
          cancelable: true,
          composed: true,
          pointerType: 'mouse',
          isPrimary: true,
          ...init,
        })
      : mouse(type, element, init);
  fire(element, pointer('pointerdown'));
  fire(element, mouse('mousedown', element, { ...init, buttons: 1 }));
  if (element instanceof HTMLElement && element.tabIndex >= 0) element.focus({ preventScroll: true });
  fire(element, pointer('pointerup'));
  fire(element, mouse('mouseup', element, init));
  // click() runs the element's activation behaviour too: checkboxes toggle, buttons submit, labels forward.
  if (element instanceof HTMLElement) element.click();
  else fire(element, mouse('click', element, init));
  return undefined;
}

function setValue(element: Element, action: AgentAction): string | undefined {
  const value = action.value ?? '';
  if (element instanceof HTMLTextAreaElement || (element instanceof HTMLInputElement && TEXT_TYPES.has(element.type))) {
    if (element.readOnly || element.disabled) return 'read-only';
    if (document.activeElement !== element) element.focus({ preventScroll: true });
    if (element.value !== value) {
      setNativeValue(element, value);
      fire(element, new InputEvent('input', { bubbles: true, composed: true, inputType: 'insertText', data: null }));
    }
    if (action.commit) fire(element, new Event('change', { bubbles: true }));
    return undefined;
  }
  if (element instanceof HTMLElement && element.isContentEditable) return 'unsupported';
  return 'unsupported';
}

function select(element: Element, action: AgentAction): string | undefined {
  if (!(element instanceof HTMLSelectElement)) return 'unsupported';
  if (element.disabled) return 'read-only';
  const value = action.value ?? '';
  if (![...element.options].some((option) => option.value === value)) return 'unsupported';
  setNativeValue(element, value);
  fire(element, new Event('input', { bubbles: true, composed: true }));
  fire(element, new Event('change', { bubbles: true }));
  return undefined;
}

function key(element: Element, action: AgentAction): string | undefined {
  if (action.key !== 'Enter') return 'unsupported';
  const init: KeyboardEventInit = { key: 'Enter', code: 'Enter', bubbles: true, cancelable: true, composed: true };
  const proceed = fire(element, new KeyboardEvent('keydown', init));
  fire(element, new KeyboardEvent('keyup', init));
  if (!proceed) return undefined;
  // Enter in a single-line field submits its form (as the browser's implicit submission does).
  if (element instanceof HTMLInputElement && element.form) {
    const form = element.form;
    if (leavesOrigin(form.action)) return 'other-origin';
    const submitter = form.querySelector<HTMLElement>('button:not([type]), button[type=submit], input[type=submit]');
    try {
      if (submitter) form.requestSubmit(submitter as HTMLButtonElement);
      else form.requestSubmit();
    } catch {
      // a form that cannot be submitted
    }
  }
  return undefined;
}

function scroll(element: Element | Window, action: AgentAction): string | undefined {
  const x = action.x ?? 0;
  const y = action.y ?? 0;
  element.scrollTo({ left: x, top: y, behavior: 'instant' as ScrollBehavior });
  return undefined;
}

/** Performs one input action on `element` (undefined, `document` or the root element for window scrolls). */
export function act(action: AgentAction, element: Node | null, policy: ActPolicy): string | undefined {
  if (action.op === AgentOp.Scroll && (!element || element.nodeType === 9 || element === document.documentElement))
    return scroll(window, action);
  if (!element || element.nodeType !== 1) return 'gone';
  const target = element as Element;
  const why = refusal(target, policy);
  if (why) return why;
  switch (action.op) {
    case AgentOp.Click:
      return click(target, action);
    case AgentOp.SetValue:
      return setValue(target, action);
    case AgentOp.Select:
      return select(target, action);
    case AgentOp.Key:
      return key(target, action);
    case AgentOp.Scroll:
      return scroll(target, action);
    default:
      return 'unsupported';
  }
}
