// ~20,000 nodes (2 tables of 1,050 rows × 9 nodes, and nested lists), and `window.churn(ms)`: from
// then on, every few ms for `ms`, a seeded random change (texts, attributes, rows added, removed,
// moved between the tables, cells re-rendered, nested content), as a busy app does while sharing starts.
(function () {
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const pick = (list) => list[Math.floor(rand() * list.length)];
  let made = 0;
  const row = () => {
    const tr = document.createElement('tr');
    const n = ++made;
    for (const text of [
      '#' + (100000 + n),
      'Customer ' + n,
      n % 3 ? 'paid' : 'pending',
      '€ ' + (n * 13.7).toFixed(2),
    ]) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.appendChild(td);
    }
    return tr;
  };
  const a = document.getElementById('a');
  const b = document.getElementById('b');
  for (let i = 0; i < 1050; i++) a.appendChild(row());
  for (let i = 0; i < 1050; i++) b.appendChild(row());
  const nested = document.getElementById('nested');
  const list = (depth) => {
    const ul = document.createElement('ul');
    for (let i = 0; i < 3; i++) {
      const li = document.createElement('li');
      li.appendChild(document.createTextNode('item ' + depth + '.' + i));
      if (depth < 5) li.appendChild(list(depth + 1));
      ul.appendChild(li);
    }
    return ul;
  };
  nested.appendChild(list(0));

  const rows = () => [...a.children, ...b.children];
  const changes = [
    () => (pick(rows()).children[1].firstChild.data = 'renamed ' + Math.floor(rand() * 1e6)),
    () => pick(rows()).classList.toggle('hot'),
    () => pick(rows()).remove(),
    () => {
      const target = rand() < 0.5 ? a : b;
      target.insertBefore(row(), pick([...target.children, null]));
    },
    () => {
      const target = rand() < 0.5 ? a : b;
      target.insertBefore(pick(rows()), pick([...target.children, null]));
    },
    () => {
      const cell = pick(rows()).children[3];
      const span = document.createElement('span');
      span.textContent = '€ ' + Math.floor(rand() * 1000);
      cell.replaceChildren(span, document.createTextNode(' due'));
    },
    () => {
      const items = nested.querySelectorAll('li');
      const li = pick([...items]);
      if (rand() < 0.5) li.appendChild(list(4));
      else li.firstChild.data = 'changed ' + Math.floor(rand() * 1e6);
    },
  ];
  window.churn = (ms) =>
    new Promise((resolve) => {
      const end = performance.now() + ms;
      let count = 0;
      const step = () => {
        for (let i = 0; i < 5; i++) pick(changes)();
        count += 5;
        if (performance.now() < end) setTimeout(step, 2);
        else resolve(count);
      };
      step();
    });
})();
