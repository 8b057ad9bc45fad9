// Test harness: loads the SDK bundle from the relay named in ?relay= and starts sharing (customer
// pages) or joins (agent.html). Results land on window for the tests to read.
(function () {
  const params = new URLSearchParams(location.search);
  const relay = params.get('relay');
  const room = params.get('room');
  const agent = document.documentElement.hasAttribute('data-agent');
  const auto = params.get('auto') !== '0';
  window.cobrowseLog = [];
  function load(src) {
    return new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = src;
      script.onload = resolve;
      script.onerror = () => reject(new Error('cannot load ' + src));
      document.head.appendChild(script);
    });
  }
  function track(session) {
    session.on('status', (s) => window.cobrowseLog.push('status:' + s));
    session.on('error', (e) => window.cobrowseLog.push('error:' + e.message));
    session.on('ended', (e) => window.cobrowseLog.push('ended:' + e.reason));
  }
  const common = { server: relay, roomId: room, headers: { 'ccmessaging-token': 'dev' } };
  window.cobrowseReady = load(relay + (agent ? '/sdk/replayer.js' : '/sdk/recorder.js')).then(() => {
    if (agent) {
      window.cobrowseSnapshots = 0;
      window.cobrowseJoin = (extra) =>
        CobrowseReplayer.join(
          Object.assign(
            {},
            common,
            { container: '#screen', userId: 'agent-' + Math.random().toString(36).slice(2, 6), userName: 'Agent' },
            extra,
          ),
        ).then((s) => {
          window.agent = s;
          track(s);
          s.on('snapshot', () => window.cobrowseSnapshots++);
          return s;
        });
    } else {
      window.cobrowseStart = (extra) =>
        CobrowseRecorder.start(Object.assign({}, common, { userId: 'customer-1', userName: 'Customer' }, extra)).then(
          (s) => {
            window.cobrowse = s;
            track(s);
            return s;
          },
        );
    }
    if (auto) return agent ? window.cobrowseJoin() : window.cobrowseStart();
  });
  window.cobrowseReady.catch((e) => window.cobrowseLog.push('error:' + e.message));
})();
