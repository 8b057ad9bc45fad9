import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { expect, test } from '@playwright/test';
import { Deflater, type DeflateWorker, deflateHere } from '../src/deflate.js';

const TEXT = JSON.stringify(Array.from({ length: 500 }, (_, i) => ({ id: i, text: `Zeile ${i} — €${i}.00 ✓` })));
const inflate = (bytes: Uint8Array) => inflateRawSync(bytes).toString('utf8');

/** A worker double that answers (with node:zlib), fails, or stays silent. */
class FakeWorker implements DeflateWorker {
  onmessage: ((event: MessageEvent) => void) | null = null;
  onerror: ((event: ErrorEvent) => void) | null = null;
  received: { id: number; text: string }[] = [];
  terminated = false;
  constructor(private readonly mode: 'answer' | 'silent' | 'error-answer') {}
  postMessage(message: unknown): void {
    const { id, bytes } = message as { id: number; bytes: Uint8Array };
    const job = { id, text: Buffer.from(bytes).toString('utf8') };
    this.received.push(job);
    if (this.mode === 'silent') return;
    setTimeout(() => {
      const data =
        this.mode === 'answer'
          ? { id: job.id, buffer: new Uint8Array(deflateRawSync(Buffer.from(job.text))).buffer }
          : { id: job.id, error: 'no CompressionStream here' };
      this.onmessage?.({ data } as MessageEvent);
    }, 1);
  }
  fail(): void {
    this.onerror?.({} as ErrorEvent);
  }
  terminate(): void {
    this.terminated = true;
  }
}

test('on this thread: deflate-raw of the UTF-8 text', async () => {
  expect(inflate(await deflateHere(TEXT))).toBe(TEXT);
  // Node has no Worker: the default falls back to this thread.
  const deflater = new Deflater();
  expect(deflater.inWorker).toBe(false);
  expect(inflate(await deflater.deflate(TEXT))).toBe(TEXT);
});

test('a worker does the work when there is one', async () => {
  const worker = new FakeWorker('answer');
  const deflater = new Deflater({ createWorker: () => worker });
  const [a, b] = await Promise.all([deflater.deflate(TEXT), deflater.deflate('second')]);
  expect(worker.received.map((j) => j.text)).toEqual([TEXT, 'second']);
  expect([inflate(a), inflate(b)]).toEqual([TEXT, 'second']);
  deflater.close();
  expect(worker.terminated).toBe(true);
});

test('refused by the page (CSP) or failing: the jobs are done here, none lost', async () => {
  const refused = new Deflater({
    createWorker: () => {
      throw new DOMException('refused by Content-Security-Policy', 'SecurityError');
    },
  });
  expect(refused.inWorker).toBe(false);
  expect(inflate(await refused.deflate(TEXT))).toBe(TEXT);

  // The worker errors while two jobs are waiting: both are redone here; later ones never go to it.
  const worker = new FakeWorker('silent');
  const failing = new Deflater({ createWorker: () => worker });
  const pending = [failing.deflate(TEXT), failing.deflate('two')];
  worker.fail();
  expect(worker.terminated).toBe(true);
  expect((await Promise.all(pending)).map(inflate)).toEqual([TEXT, 'two']);
  expect(inflate(await failing.deflate('three'))).toBe('three');
  expect(worker.received.length).toBe(2);

  // A worker that answers with an error (no CompressionStream in workers): that job is redone here.
  const erring = new Deflater({ createWorker: () => new FakeWorker('error-answer') });
  expect(inflate(await erring.deflate(TEXT))).toBe(TEXT);
});

test('a worker that stops answering is dropped after the timeout', async () => {
  const worker = new FakeWorker('silent');
  const deflater = new Deflater({ createWorker: () => worker, timeoutMs: 50 });
  const started = Date.now();
  expect(inflate(await deflater.deflate(TEXT))).toBe(TEXT);
  expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  expect(worker.terminated).toBe(true);
  expect(deflater.inWorker).toBe(false);
});
