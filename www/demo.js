// Demo page glue: keeps the "Current consent" panel in sync with the banner.
// Uses only the public contract: window.consent and the consent:ready / consent:change events.
(function () {
  'use strict';

  var CATEGORIES = ['essential', 'analytics', 'marketing'];
  var ready = false;

  function q(sel) { return document.querySelector(sel); }
  function setText(el, text) { if (el) { el.textContent = text; } }

  function scriptsRun() {
    var g = window.__gated;
    if (!g) { return 'none'; }
    var parts = [];
    ['analytics', 'marketing'].forEach(function (name) {
      if (g[name]) { parts.push(name + ' \u00d7' + g[name]); }
    });
    return parts.length ? parts.join(', ') : 'none';
  }

  function render() {
    var api = window.consent;
    var panel = q('#consent-panel');
    if (!panel) { return; }
    if (!api) {
      setText(q('[data-state="status"]'), 'The consent banner did not load, so optional scripts stay off.');
      panel.setAttribute('data-decided', 'unavailable');
      return;
    }
    var id = null;
    try { id = api.consentId(); } catch (e) { id = null; }
    var decided = ready && id !== null && id !== undefined;
    panel.setAttribute('data-decided', ready ? String(decided) : 'loading');
    if (!ready) {
      setText(q('[data-state="status"]'), 'Loading…');
    } else if (decided) {
      setText(q('[data-state="status"]'), 'Your saved choice is applied on every page.');
    } else {
      setText(q('[data-state="status"]'), 'No choice yet: only essential cookies are in use.');
    }
    CATEGORIES.forEach(function (cat) {
      var el = q('[data-state-cat="' + cat + '"]');
      var on = false;
      try { on = api.accepted(cat); } catch (e) { on = false; }
      if (cat === 'essential') { on = true; }
      setText(el, on ? 'Allowed' : 'Off');
      if (el) { el.setAttribute('data-on', String(on)); }
    });
    setText(q('[data-state="consent-id"]'), decided ? id : '—');
    setText(q('[data-state="scripts"]'), scriptsRun());
  }

  // Gated scripts run while the banner applies a choice; refresh once they had their turn.
  function renderSoon() {
    render();
    setTimeout(render, 0);
    setTimeout(render, 250);
  }

  function onReady() {
    ready = true;
    renderSoon();
  }

  document.addEventListener('consent:ready', onReady);
  document.addEventListener('consent:change', renderSoon);

  if (window.consent && window.consent.ready && typeof window.consent.ready.then === 'function') {
    window.consent.ready.then(onReady, render);
  } else {
    render();
  }

  // If nothing answers within a few seconds, say so rather than show "Loading…" for ever.
  setTimeout(function () {
    if (!ready) {
      setText(q('[data-state="status"]'), 'The consent banner did not load, so optional scripts stay off.');
      var panel = q('#consent-panel');
      if (panel) { panel.setAttribute('data-decided', 'unavailable'); }
    }
  }, 8000);
})();
