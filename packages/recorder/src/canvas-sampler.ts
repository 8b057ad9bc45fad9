import type { eventWithTime } from '@rrweb/types';
import { RrwebEventType, RrwebSource } from '@cobrowse/protocol';

/**
 * Shares what `<canvas>` elements show: each canvas is sampled a few times a second
 * (`createImageBitmap`, cheap on the main thread), encoded as a lossless PNG in a worker, and a frame
 * goes out only when its pixels changed — as the canvas event rrweb's own sampler emits, so the
 * replayer paints it the same way.
 *
 * Why not rrweb's sampler: it runs a requestAnimationFrame loop that makes the page render 60
 * frames a second for as long as the share lasts (~80–100 ms of main-thread time per second on a
 * page with one static chart, measured here), and it clears WebGL canvases before each sample.
 * This one wakes `fps` times a second, starts its worker only once the page has a canvas, and
 * never draws on the page's canvases.
 */
const WORKER = `
const last = new Map();
const blank = new Map();
function base64(bytes) {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(text);
}
async function png(canvas) {
  const blob = await canvas.convertToBlob({ type: 'image/png' });
  return { type: blob.type, data: base64(new Uint8Array(await blob.arrayBuffer())) };
}
async function blankFor(width, height) {
  const key = width + 'x' + height;
  if (!blank.has(key)) {
    const canvas = new OffscreenCanvas(width, height);
    canvas.getContext('2d'); // a canvas without a context cannot be encoded
    blank.set(key, (await png(canvas)).data);
  }
  return blank.get(key);
}
onmessage = async (event) => {
  const { id, bitmap, width, height, reset } = event.data;
  if (reset) return void last.clear();
  try {
    const canvas = new OffscreenCanvas(width, height);
    canvas.getContext('2d').drawImage(bitmap, 0, 0);
    bitmap.close();
    const frame = await png(canvas);
    const previous = last.get(id);
    last.set(id, frame.data);
    // Unchanged, or still blank (nothing drawn yet): nothing to send.
    if (previous === frame.data || (previous === undefined && frame.data === (await blankFor(width, height))))
      return void postMessage({ id });
    postMessage({ id, type: frame.type, base64: frame.data, width, height });
  } catch {
    postMessage({ id });
  }
};`;

const CANVAS_MUTATION = RrwebSource.CanvasMutation;
const INCREMENTAL = RrwebEventType.IncrementalSnapshot;

export class CanvasSampler {
  private readonly canvases = document.getElementsByTagName('canvas');
  private readonly timer: ReturnType<typeof setInterval>;
  private worker: Worker | undefined;
  private workerUrl: string | undefined;
  /** The page refused the worker (its Content-Security-Policy): no canvas pixels, nothing else lost. */
  private refused = false;
  private readonly busy = new Set<number>();

  constructor(
    fps: number,
    /** The rrweb id of a node (0 or less: not recorded, e.g. blocked). */
    private readonly idOf: (node: Node) => number,
    private readonly blocked: (canvas: HTMLCanvasElement) => boolean,
    private readonly emit: (event: eventWithTime) => void,
  ) {
    this.timer = setInterval(() => this.sample(), 1000 / fps);
  }

  /** A new full snapshot: the agents' canvases are blank again, so every canvas's next frame is sent. */
  reset(): void {
    this.busy.clear();
    this.worker?.postMessage({ reset: true });
  }

  private sample(): void {
    if (this.refused || this.canvases.length === 0) return;
    const worker = this.start();
    if (!worker) return;
    for (const canvas of Array.from(this.canvases)) {
      try {
        if (!canvas.width || !canvas.height || this.blocked(canvas)) continue;
        const id = this.idOf(canvas);
        if (id <= 0 || this.busy.has(id)) continue;
        this.busy.add(id);
        const { width, height } = canvas;
        createImageBitmap(canvas).then(
          (bitmap) => worker.postMessage({ id, bitmap, width, height }, [bitmap]),
          () => this.busy.delete(id),
        );
      } catch {
        // a canvas that cannot be read (tainted by a cross-origin image): skipped
      }
    }
  }

  private start(): Worker | undefined {
    if (this.worker) return this.worker;
    try {
      this.workerUrl = URL.createObjectURL(new Blob([WORKER], { type: 'text/javascript' }));
      const worker = new Worker(this.workerUrl);
      worker.onmessage = (event: MessageEvent) => this.frame(event.data);
      worker.onerror = () => this.refuse();
      this.worker = worker;
      return worker;
    } catch {
      this.refuse();
      return undefined;
    }
  }

  private refuse(): void {
    this.refused = true;
    this.worker?.terminate();
    this.worker = undefined;
  }

  private frame(data: { id: number; type?: string; base64?: string; width?: number; height?: number }): void {
    this.busy.delete(data.id);
    if (!data.base64) return;
    this.emit({
      type: INCREMENTAL,
      timestamp: Date.now(),
      data: {
        source: CANVAS_MUTATION,
        id: data.id,
        type: 0, // 2D
        commands: [
          { property: 'clearRect', args: [0, 0, data.width, data.height] },
          {
            property: 'drawImage',
            args: [
              {
                rr_type: 'ImageBitmap',
                args: [{ rr_type: 'Blob', data: [{ rr_type: 'ArrayBuffer', base64: data.base64 }], type: data.type }],
              },
              0,
              0,
            ],
          },
        ],
      },
    } as unknown as eventWithTime);
  }

  stop(): void {
    clearInterval(this.timer);
    this.worker?.terminate();
    this.worker = undefined;
    if (this.workerUrl) URL.revokeObjectURL(this.workerUrl);
  }
}
