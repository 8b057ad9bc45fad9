// Builds ~10,000 DOM nodes (elements + text): 1,100 table rows of 4 cells, then #last.
// `?rows=N` builds N rows instead (9 nodes a row: 50 rows = a 200-cell page, 2,100 rows ≈ 19,000 nodes; row 8 uses 2,200 ≈ 20,000).
(function () {
  const asked = Number(new URLSearchParams(location.search).get('rows'));
  const rows = Number.isInteger(asked) && asked > 0 && asked <= 10_000 ? asked : 1100;
  const names = [
    'Alice Martin',
    'Bob Chen',
    'Carla Rossi',
    'Dev Patel',
    'Eva Novak',
    'Farid Haddad',
    'Grace Kim',
    'Hugo Silva',
    'Ines Moreau',
    'Jon Berg',
  ];
  const statuses = ['paid', 'pending', 'shipped', 'refunded', 'on hold'];
  const tbody = document.querySelector('#orders tbody');
  const fragment = document.createDocumentFragment();
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let i = 1; i <= rows; i++) {
    const tr = document.createElement('tr');
    const cells = [
      '#' + (100000 + i),
      names[i % names.length],
      statuses[Math.floor(rand() * statuses.length)],
      '€ ' + (rand() * 2000).toFixed(2),
    ];
    cells.forEach((text, c) => {
      const td = document.createElement('td');
      if (c === 3) td.className = 'amount';
      td.textContent = text;
      tr.appendChild(td);
    });
    fragment.appendChild(tr);
  }
  tbody.appendChild(fragment);
  const last = document.createElement('p');
  last.id = 'last';
  last.textContent = 'End of orders';
  document.body.insertBefore(last, document.currentScript);
})();
