/** Always masked, whatever the options: passwords, payment card fields, and marked regions. */
export const ALWAYS_MASKED = '[data-cobrowse-mask]';
/** Never recorded: marked regions and the SDK's own indicator and overlay (agents' pointers, highlights, prompt). */
export const ALWAYS_BLOCKED = '[data-cobrowse-block],[data-cobrowse-indicator],[data-cobrowse-overlay]';

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

/** Field types rrweb can mask (its `maskAllInputs` list). */
const MASKABLE = [
  'color',
  'date',
  'datetime-local',
  'email',
  'month',
  'number',
  'range',
  'search',
  'tel',
  'text',
  'time',
  'url',
  'week',
  'textarea',
  'password',
] as const;

/**
 * rrweb's `maskInputOptions`: every field type goes through {@link inputMasker}, which decides.
 * Selects only when all inputs are masked: a masked select loses which options are chosen, so
 * otherwise always-masked selects are blocked instead (see {@link maskedSelects}).
 */
export function maskInputOptions(maskAll: boolean): Record<string, boolean> {
  const options: Record<string, boolean> = Object.fromEntries(MASKABLE.map((type) => [type, true]));
  if (maskAll) options.select = true;
  return options;
}

/** Selects that must never show their choice, to block when selects are not masked. */
export function maskedSelects(extraSelector?: string): string {
  const marks = [ALWAYS_MASKED, ...(extraSelector ? [extraSelector] : [])];
  return [
    'select[autocomplete^="cc-"]',
    ...marks.flatMap((mark) => [`select:is(${mark})`, `:is(${mark}) select`]),
  ].join(',');
}

export function joinSelectors(...selectors: (string | undefined)[]): string {
  return selectors.filter((s): s is string => !!s && s.trim().length > 0).join(',');
}
