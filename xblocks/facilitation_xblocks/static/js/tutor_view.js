/* The tutor view XBlock: the shared triage view (tutor_view_triage.js) on the block's own
   `api` handler, which calls the engine's tutor API server-side as the signed-in staff
   member. The browser never holds an engine credential. */
function FacilitationTutorView(runtime, element, args) {
  'use strict';
  var ui = window.FacilitationUI;
  var root = element && element.jquery ? element[0] : element;
  var state = JSON.parse(args.state);
  var s = state.strings;
  var status = root.querySelector('.fx-status');
  var view = null;

  function say(text) {
    status.textContent = '';
    window.setTimeout(function () { status.textContent = text; }, 30);
  }

  function api(method, path, body) {
    return ui.call(runtime, root, 'api', { method: method, path: path, body: body || null })
      .then(function (reply) { return { ok: !!reply.ok, status: reply.status, data: reply }; })
      .catch(function () { return { ok: false, status: 502, data: { error: s.failed } }; });
  }

  root.querySelector('.fx-tv-refresh').addEventListener('click', function () {
    if (view) { view.refresh().then(function (ok) { if (ok) { say(s.refreshed); } }); }
  });
  var page = state.page_url && window.FacilitationCards.safeUrl(state.page_url);
  if (page) {
    var link = root.querySelector('.fx-tv-page');
    link.href = page;
    link.textContent = s.open_page;
    link.hidden = false;
  }
  api('GET', '/api/v1/me').then(function (res) {
    if (!res.ok) { say(res.data.error || s.failed); return; }
    view = window.FacilitationTriage.mount({
      root: root.querySelector('.fx-tv-queue'), api: api, me: res.data, announce: say,
      prefix: state.prefix, refreshSeconds: 60,
    });
    view.refresh().then(function (ok) { if (ok) { say(''); } });
  });
}
