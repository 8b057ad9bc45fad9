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
import { BatchDecoder, nextTask } from './decode.js';
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

type Node = Record<string, unknown> & { id: number };

/** The made-up page: rules rrweb rewrites (`:hover`, device widths), a form, a table, a list, an SVG. */
class MadeUpPage {
  private lastId = 0;
  private readonly text = (textContent: string, extra: object = {}): Node => ({
    type: 3,
    textContent,
    id: ++this.lastId,
    ...extra,
  });
  private readonly element = (tagName: string, attributes: Record<string, string> = {}, childNodes: Node[] = []) =>
    ({ type: 2, tagName, attributes, childNodes, id: ++this.lastId }) as Node;

  private readonly label = this.text('Order 1');
  private readonly cell = this.element('td', { class: 'amount' }, [this.text('12.50')]);
  private readonly field = this.element('input', { type: 'text', name: 'q', value: '' });
  private readonly style = this.element(
    'style',
    {
      _cssText:
        'body{margin:0;font:14px sans-serif}a:hover,.row:hover td{color:#05a}' +
        '@media (max-device-width:600px){.wide{display:none}}td{padding:2px 6px}',
    },
    [this.text('', { isStyle: true })],
  );
  private readonly body: Node;
  private readonly document: Node;
  private added: Node | undefined;
  private removed: Node | undefined;

  constructor() {
    const { element, text } = this;
    this.body = element('body', {}, [
      element('header', {}, [element('h1', {}, [text('Orders')])]),
      element('form', { action: '#' }, [element('label', {}, [text('Search')]), this.field]),
      element('table', {}, [
        element('tbody', {}, [element('tr', { class: 'row' }, [element('td', {}, [this.label]), this.cell])]),
      ]),
      element('ul', {}, [element('li', {}, [element('a', { href: '#one' }, [text('One')])])]),
      { ...element('svg', { viewBox: '0 0 10 10' }, [{ ...element('circle', { r: '4' }), isSVG: true }]), isSVG: true },
    ]);
    const head = element('head', {}, [
      element('meta', { charset: 'utf-8' }),
      element('title', {}, [text('Warm-up')]),
      this.style,
    ]);
    const doctype = { type: 1, name: 'html', publicId: '', systemId: '', id: ++this.lastId };
    this.document = {
      type: 0,
      childNodes: [doctype, element('html', { lang: 'en' }, [head, this.body])],
      id: ++this.lastId,
    };
  }

  /** Meta and the full snapshot. */
  snapshot(): eventWithTime[] {
    const t = Date.now();
    return [
      { type: RrwebEventType.Meta, data: { href: 'https://warm-up.invalid/', width: 800, height: 600 }, timestamp: t },
      {
        type: RrwebEventType.FullSnapshot,
        data: { node: this.document, initialOffset: { left: 0, top: 0 } },
        timestamp: t,
      },
    ] as unknown as eventWithTime[];
  }

  /** Events after the snapshot: a sliced snapshot's nested adds, then the changes a page makes. */
  changes(): eventWithTime[] {
    const { element, text } = this;
    const t = Date.now();
    const rows = Array.from({ length: 4 }, (_, i) =>
      element('tr', { class: 'row' }, [element('td', {}, [text(`Order ${i + 2}`)]), element('td', {}, [text('1.00')])]),
    );
    this.added = element('table', {}, [element('tbody', {}, rows)]);
    this.removed = element('p', {}, []);
    const incremental = (data: object) =>
      ({ type: RrwebEventType.IncrementalSnapshot, data, timestamp: t }) as unknown as eventWithTime;
    const mutation = (data: object) =>
      incremental({ source: RrwebSource.Mutation, texts: [], attributes: [], removes: [], adds: [], ...data });
    const body = this.body.id;
    return [
      mutation({ adds: [{ parentId: body, nextId: null, node: this.added }], [NESTED_ADDS]: NESTED_ADDS_VERSION }),
      mutation({
        texts: [{ id: this.label.id, value: 'Order 1 (paid)' }],
        attributes: [{ id: this.cell.id, attributes: { class: 'amount paid', style: { color: 'green' } } }],
        adds: [{ parentId: body, nextId: null, node: this.removed }],
      }),
      mutation({ removes: [{ parentId: body, id: this.removed.id }] }),
      incremental({ source: RrwebSource.Input, id: this.field.id, text: 'warm', isChecked: false }),
      incremental({ source: 3 /* scroll */, id: this.document.id, x: 0, y: 10 }),
    ];
  }

  /**
   * Whether the replay shows all of it (rrweb reports nothing it could not apply with its warnings
   * off: an rrweb that changed shape would warm nothing and say nothing).
   */
  shownIn(player: LivePlayer): boolean {
    const mirror = player.replayer.getMirror();
    const node = (id: number | undefined) => (id === undefined ? null : mirror.getNode(id));
    const field = node(this.field.id) as HTMLInputElement | null;
    const added = node(this.added?.id) as HTMLTableElement | null;
    return (
      field?.value === 'warm' &&
      added?.isConnected === true &&
      added.rows.length === 4 &&
      node(this.label.id)?.textContent === 'Order 1 (paid)' &&
      node(this.removed?.id)?.isConnected !== true &&
      // rrweb's CSS rewriting ran: `:hover` rules have their class twin.
      (node(this.style.id)?.textContent ?? '').includes('.\\:hover')
    );
  }
}

/** Deflates text as the recorder does for `z: 1` batches (the browser's own deflate-raw). */
async function deflateRaw(textToDeflate: string): Promise<Uint8Array> {
  const stream = new Blob([textToDeflate]).stream().pipeThrough(new CompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Warms the code a join runs, in `host` (an element in the page: the throwaway replay's iframe needs a
 * document), a step per task. `done` settles true when it ran through and the replay shows the whole
 * made-up page, false when stopped first or when a step failed or showed less (a failed warm-up
 * costs the join its head start, nothing else); never rejects.
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
    const page = new MadeUpPage();
    const welcome = { type: 'welcome', v: PROTOCOL_VERSION, roomId: 'warm-up', role: 'replayer' } as const;
    decodeText(encodeText({ ...welcome, recorder: true, replayers: 1, now: Date.now() }));
    const decoder = new BatchDecoder();
    const snap: Events = { type: 'events', epoch: 'warm-up', seq: 1, snap: true, z: 1 };
    const frame = decodeBytes(encodeBinary(snap, await deflateRaw(JSON.stringify(page.snapshot()))));
    const decoded = await decoder.decode(frame.message as Events, frame.payload);
    await nextTask();
    if (this.stopped) return false;
    for (const event of decoded) player.apply(event);
    await nextTask();
    if (this.stopped) return false;
    const next = decodeText(encodeText({ ...snap, seq: 2, snap: false, z: 0 }, JSON.stringify(page.changes())));
    for (const event of decoder.decode(next.message as Events, next.payload) as eventWithTime[]) player.apply(event);
    await nextTask(); // rrweb applies a microtask after addEvent
    return !this.stopped && page.shownIn(player);
  }
}
