(function () { var g = window.__gated = window.__gated || {}; g.order = g.order || []; g.order.push('order-b'); })();
