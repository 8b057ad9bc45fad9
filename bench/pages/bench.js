// Bench harness for the customer and agent pages. `?mode=ours` loads the real SDK bundles from the
// relay named in `?relay=` (http base URL); `?mode=naive` runs plain rrweb against the naive `ws`
// relay named in `?relay=` (ws URL) exactly as rrweb's live-mode docs show. All times are
// `performance.timeOrigin + performance.now()` (one clock for every page of the browser; the skew
// case fakes Date, not this).
(function () {
  const params = new URLSearchParams(location.search);
  const mode = params.get('mode');
  const relay = params.get('relay');
  const room = params.get('room');
  const auto = params.get('auto') !== '0';
  const isAgent = document.documentElement.hasAttribute('data-agent');
  const now = () => performance.timeOrigin + performance.now();
  const headers = { 'ccmessaging-token': 'dev' };
  const RRWEB = '/node_modules/rrweb/dist/rrweb.umd.min.cjs';
  const RRWEB_CSS = '/node_modules/rrweb/dist/style.css';

  const bench = (window.bench = { mode, status: 'loading', errors: [], now });
  window.addEventListener('error', (e) => bench.errors.push(String(e.message)));
  window.addEventListener('unhandledrejection', (e) =>
    bench.errors.push(String(e.reason && e.reason.message ? e.reason.message : e.reason)),
  );

  function load(src) {
    return new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = src;
      script.onload = resolve;
      script.onerror = () => reject(new Error('cannot load ' + src));
      document.head.appendChild(script);
    });
  }
  function loadCss(href) {
    return new Promise((resolve, reject) => {
      const link = document.createElement('link');
      link.rel = 'stylesheet';
      link.href = href;
      link.onload = resolve;
      link.onerror = () => reject(new Error('cannot load ' + href));
      document.head.appendChild(link);
    });
  }

  /**
   * Mean of (this page's clock − the real wall clock, whole ms) sampled for `spanMs`; two pages'
   * clocks agree when their means agree (the span averages out Date.now's 1 ms steps).
   */
  bench.clockCheck = (spanMs = 120) => {
    const real = window.__benchRealNow || Date.now.bind(Date);
    const end = performance.now() + spanMs;
    let sum = 0;
    let count = 0;
    while (performance.now() < end) {
      sum += now() - real();
      count++;
    }
    return sum / count;
  };

  if (!isAgent) customer();
  else agent();

  function customer() {
    bench.start = () => {
      // The customer's page alone (no recording), for the cost baselines.
      if (mode === 'none') {
        bench.recording = true;
        return Promise.resolve();
      }
      // rrweb's record() alone, its events dropped: what rrweb costs the page without any sending.
      if (mode === 'record') {
        bench.recordEvents = 0;
        const t = now();
        bench.stopRecording = rrweb.record({
          emit() {
            bench.recordEvents++;
          },
        });
        // rrweb's first snapshot and observers, synchronous when the page has loaded.
        bench.recordCallMs = now() - t;
        bench.recording = true;
        return Promise.resolve();
      }
      if (mode === 'ours') {
        return CobrowseRecorder.start({
          server: relay,
          roomId: room,
          userId: 'customer-1',
          userName: 'Customer',
          headers,
        }).then((s) => {
          bench.session = s;
          s.on('error', (e) => bench.errors.push('recorder: ' + e.message));
          return s;
        });
      }
      return new Promise((resolve, reject) => {
        const ws = new WebSocket(relay + '?room=' + encodeURIComponent(room));
        bench.socket = ws;
        ws.onopen = () => {
          const t = now();
          bench.stopRecording = rrweb.record({
            emit(event) {
              ws.send(JSON.stringify(event));
            },
          });
          bench.recordCallMs = now() - t;
          resolve();
        };
        ws.onerror = () => reject(new Error('naive socket error'));
      });
    };
    bench.liveStatus = () => {
      if (mode === 'ours') return bench.session ? bench.session.status : 'starting';
      if (mode === 'none' || mode === 'record') return bench.recording ? 'live' : 'starting';
      return bench.socket && bench.socket.readyState === 1 && bench.stopRecording ? 'live' : 'starting';
    };

    /**
     * Sets #probe's text node to `${prefix}-${i}` n times, spaced minGap..maxGap ms apart, and
     * returns [[id, time]]; with `log`, also appends an <li> to #log each time.
     */
    bench.mutate = (prefix, n, minGap, maxGap, log) =>
      new Promise((resolve) => {
        const text = document.getElementById('probe').firstChild;
        const list = document.getElementById('log');
        const stamps = [];
        let i = 0;
        const step = () => {
          const id = prefix + '-' + i;
          const t = now();
          text.data = id;
          if (log) {
            const li = document.createElement('li');
            li.textContent = 'event ' + id;
            list.appendChild(li);
          }
          stamps.push([id, t]);
          // Resolve a little after the last change, so Playwright's traffic does not overlap the last event.
          if (++i >= n) return setTimeout(() => resolve(stamps), 250);
          setTimeout(step, minGap + Math.random() * (maxGap - minGap));
        };
        step();
      });

    /**
     * The burst: every animation frame for `durationMs`, #grid's children are replaced by `nodes`
     * new nodes (nodes / 2 <span>s with a text node each), as a framework re-rendering a big list
     * does, then #probe gets the frame's counter. Resolves with [[id, time]], one per frame.
     */
    bench.burst = (prefix, durationMs, nodes) =>
      new Promise((resolve) => {
        const grid = document.getElementById('grid');
        const text = document.getElementById('probe').firstChild;
        const stamps = [];
        let end;
        let i = 0;
        const frame = () => {
          const t = now();
          end = end === undefined ? t + durationMs : end;
          if (t >= end) return setTimeout(() => resolve(stamps), 0);
          const id = prefix + '-' + i++;
          const fragment = document.createDocumentFragment();
          for (let k = 0; k < nodes / 2; k++) {
            const span = document.createElement('span');
            span.textContent = (k % 10 === 0 ? id + ' ' : '') + ((k * 7919 + i) % 10007);
            fragment.appendChild(span);
          }
          grid.replaceChildren(fragment);
          text.data = id;
          stamps.push([id, t]);
          requestAnimationFrame(frame);
        };
        requestAnimationFrame(frame);
      });

    const loaded =
      mode === 'ours' ? load(relay + '/sdk/recorder.js') : mode === 'none' ? Promise.resolve() : load(RRWEB);
    bench.ready = loaded.then(() => {
      bench.status = 'loaded';
      if (auto) return bench.start();
    });
    bench.ready.catch((e) => bench.errors.push(e.message));
  }

  function agent() {
    const screen = document.getElementById('screen');
    // ?w=&h= size the view (the fidelity rows match the customer's viewport).
    if (params.get('w')) Object.assign(screen.style, { width: params.get('w') + 'px', height: params.get('h') + 'px' });
    bench.arrivals = [];
    bench.snapshots = 0;
    bench.watchFor = params.get('watchFor') || undefined;
    bench.foundAt = undefined;
    bench.iframe = () => undefined;
    bench.marks = {};
    /**
     * ours: when the join's connection-info reply had its last byte (Resource Timing), as a time like
     * now()'s; not the OPTIONS request prepare() sent to the same URL before the clock started.
     */
    bench.connectionInfoEnd = () => {
      const entry = performance
        .getEntriesByType('resource')
        .find((e) => /connectioninfo/i.test(e.name) && performance.timeOrigin + e.startTime >= bench.joinAt);
      return entry ? performance.timeOrigin + entry.responseEnd : undefined;
    };

    // ?trace=1: note when the agent's socket opens and when messages arrive (before the app sees them).
    if (params.get('trace') === '1') {
      const Native = window.WebSocket;
      const marks = bench.marks;
      marks.messages = 0;
      marks.bytes = 0;
      window.WebSocket = class TracedWebSocket extends Native {
        constructor(...args) {
          super(...args);
          marks.socketCreated = marks.socketCreated ?? now();
          this.addEventListener('open', () => (marks.open = marks.open ?? now()));
          // The first frame this page sends after join() (a parked socket's hello).
          const send = this.send.bind(this);
          this.send = (data) => {
            if (bench.joinAt !== undefined && marks.firstSend === undefined) marks.firstSend = now();
            return send(data);
          };
          this.addEventListener('message', (e) => {
            const t = now();
            marks.firstMessage = marks.firstMessage ?? t;
            marks.lastMessage = t;
            marks.messages++;
            marks.bytes += typeof e.data === 'string' ? e.data.length : e.data.byteLength || e.data.size || 0;
          });
        }
      };
    }

    // Watches the replay document: the arrival time of every new #probe text, and when the
    // element `watchFor` first exists. Re-attaches when the replay document is replaced.
    let doc = null;
    let observer = null;
    let lastText = null;
    const seen = new Set();
    const arrive = (text, t) => {
      if (!seen.has(text)) {
        seen.add(text);
        bench.arrivals.push([text, t]);
      }
    };
    const check = (records) => {
      const t = now();
      const d = doc;
      if (!d) return;
      // Two changes applied in one task leave only the last text in the DOM; the records' old
      // values hold the ones before it (each change's new value is the next record's oldValue).
      if (records && records.length > 1) {
        const byTarget = new Map();
        for (const record of records) {
          if (record.type !== 'characterData') continue;
          const list = byTarget.get(record.target) || [];
          list.push(record);
          byTarget.set(record.target, list);
        }
        for (const list of byTarget.values()) for (let i = 1; i < list.length; i++) arrive(list[i].oldValue, t);
      }
      if (bench.watchFor && bench.foundAt === undefined && d.getElementById(bench.watchFor)) {
        bench.foundAt = t;
        bench.marks.lastMessageBeforeFound = bench.marks.lastMessage;
        bench.marks.messagesBeforeFound = bench.marks.messages;
      }
      const probe = d.getElementById('probe');
      if (probe) {
        const text = probe.textContent;
        if (text !== lastText) {
          lastText = text;
          arrive(text, t);
        }
      }
    };
    const attach = () => {
      const frame = bench.iframe();
      const d = frame && frame.contentDocument;
      if (!d || d === doc) return;
      if (observer) observer.disconnect();
      doc = d;
      bench.docsSeen = (bench.docsSeen || 0) + 1;
      observer = new MutationObserver(check);
      observer.observe(d, { subtree: true, childList: true, characterData: true, characterDataOldValue: true });
      check();
    };
    setInterval(attach, 4);
    bench.replayDoc = () => doc;

    /**
     * ours: CobrowseReplayer.prepare() builds the view now (as naive builds its Replayer before its
     * clock); bench.join() then uses it. `forRoom`: prepare() is told the room (and the agent) too,
     * as a console that knows which session the agent will take: the connection info is fetched and
     * the socket opened now, and the join says hello on it.
     */
    bench.prepare = (forRoom = false) => {
      bench.marks.replayerStart = now();
      bench.parked = forRoom;
      bench.prepared = CobrowseReplayer.prepare({
        container: screen,
        // The connection-info service the join will ask: its preflight and connection are made now.
        server: relay,
        headers,
        ...(forRoom
          ? { roomId: room, userId: 'agent-' + Math.random().toString(36).slice(2, 6), userName: 'Agent' }
          : {}),
        ...(params.get('showPointer') === '0' ? { showPointer: false } : {}),
      });
      bench.iframe = () => bench.prepared.iframe;
      attach();
      // Resolves once the view has warmed up (warm-up.ts) and the relay answered the warm-up request: an agent console prepares well before a join.
      return bench.prepared.warming;
    };

    bench.join = () => {
      if (mode === 'ours') {
        bench.joinAt = now();
        const extra = params.get('showPointer') === '0' ? { showPointer: false } : {};
        const connection = {
          server: relay,
          roomId: room,
          userId: 'agent-' + Math.random().toString(36).slice(2, 6),
          userName: 'Agent',
          headers,
        };
        const joining = bench.prepared
          ? bench.prepared.join(bench.parked ? {} : connection)
          : CobrowseReplayer.join({ ...connection, container: screen, ...extra });
        return joining.then((s) => {
          bench.session = s;
          bench.marks.joinResolved = now();
          bench.iframe = () => s.iframe;
          attach();
          s.on('snapshot', () => {
            bench.marks.snapshotEvent = bench.marks.snapshotEvent ?? now();
            bench.snapshots++;
            attach();
          });
          s.on('error', (e) => bench.errors.push('replayer: ' + e.message));
          return s;
        });
      }
      // rrweb's live-mode docs: an empty live Replayer, startLive(), then addEvent for each message.
      bench.marks.replayerStart = now();
      const replayer = new rrweb.Replayer([], { root: screen, liveMode: true });
      // ?showPointer=0: no replayed mouse cursor over the page; ?w= (the fidelity rows compare pixels):
      // the iframe without the browser's default 2 px border, as ours shows it.
      const style = document.createElement('style');
      if (params.get('showPointer') === '0')
        style.textContent += '.replayer-mouse, .replayer-mouse-tail { display: none !important; }';
      if (params.get('w')) style.textContent += '.replayer-wrapper > iframe { border: 0; display: block; }';
      document.head.appendChild(style);
      replayer.startLive();
      replayer.on('fullsnapshot-rebuilded', () => {
        bench.marks.snapshotEvent = bench.marks.snapshotEvent ?? now();
        bench.snapshots++;
        attach();
      });
      bench.replayer = replayer;
      bench.iframe = () => replayer.iframe;
      attach();
      bench.joinAt = now();
      const ws = new WebSocket(relay + '?room=' + encodeURIComponent(room));
      bench.socket = ws;
      ws.onmessage = (e) => replayer.addEvent(JSON.parse(e.data));
      return new Promise((resolve, reject) => {
        ws.onopen = () => resolve();
        ws.onerror = () => reject(new Error('naive socket error'));
      });
    };
    bench.liveStatus = () =>
      mode === 'ours'
        ? bench.session
          ? bench.session.status
          : 'joining'
        : bench.socket && bench.socket.readyState === 1
          ? 'live'
          : 'joining';

    /** What rrweb's live timer still holds (naive only): how many events wait, and when the next is due. */
    bench.pending = () => {
      const timer = bench.replayer && bench.replayer.timer;
      if (!timer || !timer.actions) return null;
      const next = timer.actions[0];
      return { actions: timer.actions.length, nextDueInMs: next ? next.delay - timer.timeOffset : null };
    };

    // ?sdk=: where the SDK is loaded from, when not the relay named for the connection (join-latency.mjs).
    const sdk = params.get('sdk') || relay;
    const loaded = mode === 'ours' ? load(sdk + '/sdk/replayer.js') : Promise.all([load(RRWEB), loadCss(RRWEB_CSS)]);
    bench.ready = loaded.then(() => {
      bench.status = 'loaded';
      if (auto) return bench.join();
    });
    bench.ready.catch((e) => bench.errors.push(e.message));
  }
})();
