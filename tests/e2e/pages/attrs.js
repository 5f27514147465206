(function () {
  var g = window.__gated = window.__gated || {}; g.order = g.order || [];
  var el = document.currentScript;
  g.attrs = el ? {
    type: el.getAttribute('type'),
    crossorigin: el.getAttribute('crossorigin'),
    referrerpolicy: el.getAttribute('referrerpolicy'),
    probe: el.getAttribute('data-probe'),
  } : 'no currentScript';
  g.order.push('attrs');
})();
