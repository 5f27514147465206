// A stand-in for an analytics library (think gtag.js / GA4), for the demo and the e2e tests.
// It must only ever run after the visitor allowed "analytics": the banner activates it.
(function () {
  'use strict';
  var g = window.__gated = window.__gated || {};
  g.order = g.order || [];
  g.analytics = (g.analytics || 0) + 1;
  g.order.push('analytics');

  var now = Math.floor(Date.now() / 1000);
  var rand = Math.floor(Math.random() * 1e10);
  var twoYears = 63072000;
  document.cookie = '_ga=GA1.1.' + rand + '.' + now + '; path=/; max-age=' + twoYears + '; SameSite=Lax';
  document.cookie = '_ga_DEMO=GS1.1.' + now + '.1.0.' + now + '.0.0.0; path=/; max-age=' + twoYears + '; SameSite=Lax';

  if (typeof window.gtag === 'function') {
    window.gtag('event', 'page_view', { page_path: location.pathname, page_title: document.title });
  }
})();
