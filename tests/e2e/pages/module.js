// Only a module may use import.meta: proves data-type="module" became the activated script's type.
const g = (window.__gated = window.__gated || {});
g.order = g.order || [];
g.module = import.meta.url;
g.order.push('module');
