/*! consent.js — bootstrap for the consent banner. Hand-written and tiny: it sets Consent Mode
 * defaults synchronously, queues API calls, then loads the wasm, which makes every decision. */
(function () {
  'use strict';
  var w = window, d = document;
  // Twice on a page: one banner.
  if (w.consent && w.consent._q) return;
  var me = d.currentScript, q = [], done, cfg = {}, text = null;
  var api = w.consent = {
    _q: q,
    ready: new Promise(function (r) { done = r; }),
    accepted: function () { return false; },
    acceptedCategories: function () { return []; },
    consentId: function () { return null; }
  };
  'acceptAll rejectAll accept show showPreferences reset'.split(' ').forEach(function (n) {
    api[n] = function () { q.push([n, arguments]); };
  });
  var attr = function (n) { return me && me.getAttribute(n); };
  var el = d.getElementById(attr('data-config-id') || 'consent-config');
  if (el) {
    text = el.textContent;
    try { cfg = JSON.parse(text) || {}; } catch (e) { /* the wasm reports it precisely */ }
  }

  // Google Consent Mode v2: everything denied until the wasm sends the stored choice, before
  // any tag runs. Region defaults grant what the site configured for those regions.
  var cm = cfg.consentMode || {}, sent;
  var DENIED = { ad_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'denied', analytics_storage: 'denied' };
  if (cm.enabled !== false) {
    var dl = w.dataLayer = w.dataLayer || [];
    if (typeof w.gtag != 'function') w.gtag = function () { dl.push(arguments); };
    // A config of the wrong shape (the wasm names the field) must not stop the default: without
    // one, Google tags behave as if everything were granted.
    try {
      var map = cm.map || { analytics: ['analytics_storage'], marketing: ['ad_storage', 'ad_user_data', 'ad_personalization'] };
      var req = {};
      (cfg.categories || []).forEach(function (c) { if (c && c.required) req[c.id] = 1; });
      var state = function (granted) {
        var s = { ...DENIED };
        var on = {};
        Object.keys(map).forEach(function (c) {
          (map[c] || []).forEach(function (sig) {
            // A required category never grants a v2 signal, which needs consent (the wasm
            // refuses such a map too, but only after this default has gone out).
            var g = !!(req[c] && !DENIED[sig] || granted[c]);
            on[sig] = on[sig] !== false && g;
          });
        });
        for (var k in on) s[k] = on[k] ? 'granted' : 'denied';
        return s;
      };
      var def = state({});
      def.wait_for_update = cm.waitForUpdate == null ? 500 : cm.waitForUpdate;
      w.gtag('consent', 'default', def);
      sent = 1;
      // A browser sending Global Privacy Control gets no region grant for what GPC turns off.
      var gpcOff = navigator.globalPrivacyControl === true ? (cfg.gpc && cfg.gpc.categories) || ['marketing'] : [];
      (cm.regions || []).forEach(function (r) {
        var g = {};
        (r.granted || []).forEach(function (c) { if (gpcOff.indexOf(c) < 0) g[c] = 1; });
        var s = state(g);
        s.region = r.region;
        s.wait_for_update = def.wait_for_update;
        w.gtag('consent', 'default', s);
      });
      if (cm.urlPassthrough) w.gtag('set', 'url_passthrough', true);
      if (cm.adsDataRedaction) w.gtag('set', 'ads_data_redaction', true);
      // A returning visitor: replay the update the banner computed on an earlier page, so tags see
      // it before their first event. It is a cache, trusted only while it names the exact stored
      // consent cookie and the config revision, has not expired, and no GPC signal appeared since;
      // the wasm decides again on every load and sends its own update either way.
      try {
        var hint = JSON.parse(localStorage.getItem('pc_gcm'));
        var cur = ('; ' + d.cookie).split('; ' + ((cfg.cookie && cfg.cookie.name) || 'pc_consent') + '=')[1];
        if (hint && cur && hint.c === cur.split(';')[0] && hint.r === (cfg.revision || 0) && hint.e > Date.now() &&
            (hint.g || navigator.globalPrivacyControl !== true)) w.gtag('consent', 'update', hint.s);
      } catch (e) { /* storage unavailable: the wasm's update follows */ }
    } catch (e) {
      if (!sent) w.gtag('consent', 'default', { wait_for_update: 500, ...DENIED });
    }
  }

  var base = (me && me.src) || d.baseURI;
  // Without a running banner nothing may be granted, not even by a region default.
  var deny = function () {
    if (cm.enabled === false || typeof w.gtag != 'function') return;
    var s = { ...DENIED };
    try { for (var k in state({})) s[k] = 'denied'; } catch (e) { /* the four v2 signals */ }
    w.gtag('consent', 'update', s);
  };
  var fail = function (e) {
    deny();
    console.error('consent: the banner could not load; optional scripts stay blocked.', e);
  };
  // Glue, wasm and config load (and the wasm compiles) while the page is still parsing, all at
  // once; only start() waits for the DOM, as it renders and scans the gated scripts.
  var url = attr('data-config');
  var loaded = Promise.all([
    import(new URL('consent_banner.js', base).href),
    fetch(new URL('consent_banner_bg.wasm', base)),
    // A missing config says which one, rather than reaching the wasm as empty JSON.
    url ? fetch(url).then(function (r) { if (!r.ok) throw Error(url + ': HTTP ' + r.status); return r.text(); })
      : text != null ? text : Promise.reject(Error('no config element'))
  ]).then(function (r) {
    return r[0].default({ module_or_path: r[1] }).then(function () { return r; });
  });
  var dom = new Promise(function (r) {
    // A task after DOMContentLoaded, not inside it: page scripts' own DOMContentLoaded handlers
    // (which may add `consent:ready` listeners) run first, as they would if the wasm were late.
    if (d.readyState == 'loading') d.addEventListener('DOMContentLoaded', function () { setTimeout(r); }); else r();
  });
  Promise.all([loaded, dom]).then(function (a) {
    var m = a[0][0];
    // The real API first: `consent:ready` handlers and gated scripts run inside start() and
    // must get true answers (before a successful start it answers "nothing granted").
    'accepted acceptedCategories consentId acceptAll rejectAll accept show showPreferences reset'.split(' ')
      .forEach(function (n) { api[n] = m[n]; });
    if (!m.start(a[0][2], '__BUILD__', !!sent)) return deny();
    // Calls made before the module was ready, in order.
    q.splice(0).forEach(function (c) {
      try { api[c[0]].apply(null, c[1]); } catch (e) { console.error(e); }
    });
    done();
  }).catch(fail);
})();
