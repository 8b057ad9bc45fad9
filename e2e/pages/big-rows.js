// ~3,000 nodes: the full snapshot is well over the 32 KB from which the recorder compresses.
(function () {
  const rows = document.getElementById('rows');
  for (let i = 0; i < 300; i++)
    rows.insertAdjacentHTML(
      'beforeend',
      `<tr><td>#${100000 + i}</td><td>Customer ${i}</td><td>€ ${(i * 13.7).toFixed(2)}</td></tr>`,
    );
})();
