/**
 * Values a page's script changes by itself, unseen by rrweb.
 *
 * rrweb records programmatic `.value` writes by hooking the prototypes' setters when recording
 * starts. Frameworks that track a field's value install their own setter on the field (React's
 * controlled inputs, when they mount) and call the setter they found then — the original one, if
 * the field existed before sharing started. So a todo app that clears its input after "add" leaves
 * the old text on the agent's side. This watches the few fields the customer has typed into: after
 * each user action and each DOM change, a field whose value differs from what was last seen is
 * written back through the (hooked) prototype setter with its own value, which tells rrweb — with
 * rrweb's masking — and changes nothing on the page. Cost: a comparison per watched field (at most
 * {@link MAX_FIELDS}) after a user action or a DOM change.
 */
const MAX_FIELDS = 16;
const ACTIONS = ['keydown', 'click', 'submit', 'change'] as const;

type Field = HTMLInputElement | HTMLTextAreaElement;

function isField(node: unknown): node is Field {
  return (
    node instanceof HTMLTextAreaElement ||
    (node instanceof HTMLInputElement && !/^(checkbox|radio|file)$/i.test(node.type))
  );
}

export class ValueWatch {
  /** Fields typed into, oldest first, with the value last seen. */
  private readonly fields = new Map<Field, string>();
  private scheduled = false;

  constructor(private readonly doc: Document = document) {
    doc.addEventListener('input', this.onInput, { capture: true, passive: true });
    for (const type of ACTIONS) doc.addEventListener(type, this.schedule, { capture: true, passive: true });
  }

  /** A DOM change was recorded: a framework may have re-rendered a field as well. */
  readonly changed = (): void => this.schedule();

  private readonly onInput = (event: Event): void => {
    const target = event.composedPath?.()[0] ?? event.target;
    if (!isField(target)) return;
    this.fields.delete(target);
    this.fields.set(target, target.value);
    if (this.fields.size > MAX_FIELDS) this.fields.delete(this.fields.keys().next().value as Field);
  };

  private readonly schedule = (): void => {
    if (this.scheduled || this.fields.size === 0) return;
    this.scheduled = true;
    // After the page's own handlers and the framework's render (microtasks) have run.
    setTimeout(this.check, 0);
  };

  private readonly check = (): void => {
    this.scheduled = false;
    for (const [field, seen] of this.fields) {
      try {
        if (!field.isConnected) {
          this.fields.delete(field);
          continue;
        }
        const value = field.value;
        if (value === seen) continue;
        this.fields.set(field, value);
        const proto = field instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
        Object.getOwnPropertyDescriptor(proto, 'value')?.set?.call(field, value);
      } catch {
        // never let this reach the page
      }
    }
  };

  stop(): void {
    this.doc.removeEventListener('input', this.onInput, true);
    for (const type of ACTIONS) this.doc.removeEventListener(type, this.schedule, true);
    this.fields.clear();
  }
}
