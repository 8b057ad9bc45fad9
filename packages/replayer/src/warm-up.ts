import type { eventWithTime } from '@rrweb/types';
import {
  NESTED_ADDS,
  NESTED_ADDS_VERSION,
  PROTOCOL_VERSION,
  RrwebEventType,
  RrwebSource,
  decodeBytes,
  decodeText,
  encodeBinary,
  encodeText,
  type Events,
} from '@cobrowse/protocol';
import { BatchDecoder } from './decode.js';
import { LivePlayer } from './live-player.js';

/**
 * Warming up a prepared view. In a page that has not shown a replay yet, most of an agent's first
 * join is the browser compiling code on first use: rrweb's rebuild, its CSS rewriting (postcss, for
 * `:hover`), its mutation handling, the sanitizer, the decoder. Measured on a 490-node page, a first
 * join took 90–180 ms and the next ones in the same page 30–50 ms. `prepare()` runs that code once
 * on a small made-up page in a hidden throwaway replay, a step per task, while the agent waits: the
 * join then finds it compiled. Nothing of it is shown, nothing is fetched (the page has no URL that
 * loads anything), and a join or destroy stops what is left of it.
 */

let nextId = 1;
type Node = Record<string, unknown> & { id: number };
const text = (textContent: string, extra: object = {}): Node => ({ type: 3, textContent, id: nextId++, ...extra });
const element = (tagName: string, attributes: Record<string, string> = {}, childNodes: Node[] = []): Node => ({
  type: 2,
  tagName,
  attributes,
  childNodes,
  id: nextId++,
});

/** The made-up page: rules rrweb rewrites (`:hover`, device widths), a form, a table, a list, an SVG. */
function page(): { events: eventWithTime[]; body: number; cell: number; field: number; label: number } {
  nextId = 1;
  const css =
    'body{margin:0;font:14px sans-serif}a:hover,.row:hover td{color:#05a}' +
    '@media (max-device-width:600px){.wide{display:none}}td{padding:2px 6px}';
  const label = text('Order 1');
  const cell = element('td', { class: 'amount' }, [text('12.50')]);
  const field = element('input', { type: 'text', name: 'q', value: '' });
  const body = element('body', {}, [
    element('header', {}, [element('h1', {}, [text('Orders')])]),
    element('form', { action: '#' }, [element('label', {}, [text('Search')]), field]),
    element('table', {}, [element('tbody', {}, [element('tr', { class: 'row' }, [element('td', {}, [label]), cell])])]),
    element('ul', {}, [element('li', {}, [element('a', { href: '#one' }, [text('One')])])]),
    { ...element('svg', { viewBox: '0 0 10 10' }, [{ ...element('circle', { r: '4' }), isSVG: true }]), isSVG: true },
  ]);
  const head = element('head', {}, [
    element('meta', { charset: 'utf-8' }),
    element('title', {}, [text('Warm-up')]),
    element('style', { _cssText: css }, [text('', { isStyle: true })]),
  ]);
  const doctype = { type: 1, name: 'html', publicId: '', systemId: '', id: nextId++ };
  const html = element('html', { lang: 'en' }, [head, body]);
  const t = Date.now();
  const events = [
    { type: RrwebEventType.Meta, data: { href: 'https://warm-up.invalid/', width: 800, height: 600 }, timestamp: t },
    {
      type: RrwebEventType.FullSnapshot,
      data: { node: { type: 0, childNodes: [doctype, html], id: nextId++ }, initialOffset: { left: 0, top: 0 } },
      timestamp: t,
    },
  ] as unknown as eventWithTime[];
  return { events, body: body.id, cell: cell.id, field: field.id, label: label.id };
}

/** Events after the snapshot: a sliced snapshot's nested adds, then the changes a page makes. */
function changes(ids: { body: number; cell: number; field: number; label: number }): eventWithTime[] {
  const t = Date.now();
  const rows = Array.from({ length: 4 }, (_, i) =>
    element('tr', { class: 'row' }, [element('td', {}, [text(`Order ${i + 2}`)]), element('td', {}, [text('1.00')])]),
  );
  const mutation = (data: object) =>
    ({
      type: RrwebEventType.IncrementalSnapshot,
      data: { source: RrwebSource.Mutation, texts: [], attributes: [], removes: [], adds: [], ...data },
      timestamp: t,
    }) as unknown as eventWithTime;
  return [
    mutation({
      adds: [{ parentId: ids.body, nextId: null, node: element('table', {}, [element('tbody', {}, rows)]) }],
      [NESTED_ADDS]: NESTED_ADDS_VERSION,
    }),
    mutation({
      texts: [{ id: ids.label, value: 'Order 1 (paid)' }],
      attributes: [{ id: ids.cell, attributes: { class: 'amount paid', style: { color: 'green' } } }],
      adds: [{ parentId: ids.body, nextId: null, node: element('p', {}, []) }],
    }),
    mutation({ removes: [{ parentId: ids.body, id: nextId - 1 }] }),
    {
      type: RrwebEventType.IncrementalSnapshot,
      data: { source: RrwebSource.Input, id: ids.field, text: 'warm', isChecked: false },
      timestamp: t,
    } as unknown as eventWithTime,
    {
      type: RrwebEventType.IncrementalSnapshot,
      data: { source: 3 /* scroll */, id: 1, x: 0, y: 10 },
      timestamp: t,
    } as unknown as eventWithTime,
  ];
}

/** Deflates text as the recorder does for `z: 1` batches (the browser's own deflate-raw). */
async function deflateRaw(textToDeflate: string): Promise<Uint8Array> {
  const stream = new Blob([textToDeflate]).stream().pipeThrough(new CompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * Warms the code a join runs, in `host` (an element in the page: the throwaway replay's iframe needs a
 * document), a step per task. `done` settles true when it ran through, false when stopped first or
 * when a step failed (a failed warm-up costs the join its head start, nothing else); never rejects.
 */
export class WarmUp {
  readonly done: Promise<boolean>;
  private stopped = false;
  private player: LivePlayer | undefined;
  private readonly box: HTMLElement;

  constructor(host: HTMLElement) {
    this.box = host.ownerDocument.createElement('div');
    this.box.setAttribute('aria-hidden', 'true');
    // Laid out (layout code warms too) but never seen, never clickable, and 1 px of the page at most.
    this.box.style.cssText =
      'position:fixed;left:0;top:0;width:1px;height:1px;overflow:hidden;visibility:hidden;pointer-events:none;z-index:-1';
    this.done = this.run(host).then(
      (ran) => (this.stop(), ran),
      () => (this.stop(), false),
    );
  }

  /** Stops it and takes its hidden replay out of the page, now (a join or destroy() does, first thing). */
  stop(): void {
    this.stopped = true;
    this.player?.destroy();
    this.player = undefined;
    this.box.remove();
  }

  private async run(host: HTMLElement): Promise<boolean> {
    await nextTask();
    if (this.stopped) return false;
    host.appendChild(this.box);
    const player = (this.player = new LivePlayer(this.box, () => undefined));
    // Decoding frames as the relay sends them: a welcome, a compressed batch (as a snapshot comes), a plain one.
    const { events, ...ids } = page();
    const welcome = { type: 'welcome', v: PROTOCOL_VERSION, roomId: 'warm-up', role: 'replayer' } as const;
    decodeText(encodeText({ ...welcome, recorder: true, replayers: 1, now: Date.now() }));
    const decoder = new BatchDecoder();
    const snap: Events = { type: 'events', epoch: 'warm-up', seq: 1, snap: true, z: 1 };
    const frame = decodeBytes(encodeBinary(snap, await deflateRaw(JSON.stringify(events))));
    const decoded = await decoder.decode(frame.message as Events, frame.payload);
    await nextTask();
    if (this.stopped) return false;
    for (const event of decoded) player.apply(event);
    await nextTask();
    if (this.stopped) return false;
    const next = decodeText(encodeText({ ...snap, seq: 2, snap: false, z: 0 }, JSON.stringify(changes(ids))));
    for (const event of decoder.decode(next.message as Events, next.payload) as eventWithTime[]) player.apply(event);
    await nextTask(); // rrweb applies a microtask after addEvent
    return !this.stopped;
  }
}
