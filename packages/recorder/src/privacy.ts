/** Always masked, whatever the options: passwords, payment card fields, and marked regions. */
export const ALWAYS_MASKED = '[data-cobrowse-mask]';
/** Never recorded: marked regions and the SDK's own indicator. */
export const ALWAYS_BLOCKED = '[data-cobrowse-block],[data-cobrowse-indicator]';

const FIXED_MASK = '••••••••';

function matches(element: Element, selector: string): boolean {
  try {
    return element.closest(selector) !== null;
  } catch {
    return false;
  }
}

/** Whether a form field's value must never leave the page. */
export function alwaysMasked(element: HTMLElement, extraSelector?: string): boolean {
  const field = element as HTMLInputElement;
  const type = (field.type ?? '').toLowerCase();
  const autocomplete = (field.getAttribute?.('autocomplete') ?? '').toLowerCase();
  return (
    type === 'password' ||
    /(^|\s)cc-/.test(autocomplete) ||
    matches(element, ALWAYS_MASKED) ||
    (!!extraSelector && matches(element, extraSelector))
  );
}

/**
 * rrweb's `maskInputFn`: rrweb is told to mask every field and this decides. Always-masked fields
 * get a fixed-length mask (not even the length leaks); other fields, when all inputs are masked,
 * keep their length so the agent sees that something was typed.
 */
export function inputMasker(maskAll: boolean, extraSelector?: string): (text: string, element: HTMLElement) => string {
  return (text, element) => {
    if (!element) return text ? FIXED_MASK : '';
    if (alwaysMasked(element, extraSelector)) return text ? FIXED_MASK : '';
    return maskAll ? '*'.repeat(text.length) : text;
  };
}

export function joinSelectors(...selectors: (string | undefined)[]): string {
  return selectors.filter((s): s is string => !!s && s.trim().length > 0).join(',');
}
