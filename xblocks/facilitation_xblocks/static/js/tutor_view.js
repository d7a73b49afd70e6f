/* The tutor view XBlock: the signed-in tutor's queue through the block's own handlers
   (which call the engine server-side). All data is set with textContent. */
function FacilitationTutorView(runtime, element, args) {
  'use strict';
  var ui = window.FacilitationUI;
  var root = element && element.jquery ? element[0] : element;
  var state = JSON.parse(args.state);
  var s = state.strings;
  var list = root.querySelector('.fx-tv-nudges');
  var status = root.querySelector('.fx-status');

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function safeUrl(url) {
    try {
      var u = new URL(url, window.location.href);
      return (u.protocol === 'https:' || u.protocol === 'http:') ? u.href : null;
    } catch (e) { return null; }
  }

  function say(text) { status.textContent = text; }

  function render(data, focusIndex) {
    list.replaceChildren();
    var index = 0;
    Object.keys(data.queues || {}).forEach(function (tutor) {
      data.queues[tutor].forEach(function (n) {
        var i = index++;
        var li = el('li', 'fx-tv-nudge');
        li.setAttribute('data-nudge-id', n.nudge_id);
        var h = el('h4', null, '[' + n.severity + '] ' + s.learner + ' ' + n.learner_id);
        h.id = state.prefix + '-n' + i;
        h.tabIndex = -1;
        li.setAttribute('aria-labelledby', h.id);
        li.appendChild(h);
        var hours = (Date.parse(data.now) - Date.parse(n.due_at)) / 3600000;
        li.appendChild(el('p', 'fx-tv-meta', n.state + ' · ' + s.waiting + ' ' +
          Math.max(0, Math.round(hours)) + ' h · ' + n.reasons.join('; ')));
        n.items.forEach(function (item) {
          if (!item.open) { return; }
          var href = item.url ? safeUrl(item.url) : null;
          var title = item.title || (item.subject_type + ' ' + item.subject_id);
          if (href) {
            var a = el('a', null, title);
            a.href = href; a.target = '_blank'; a.rel = 'noopener noreferrer';
            li.appendChild(a);
          } else {
            li.appendChild(el('strong', null, title));
          }
          if (item.excerpt) { li.appendChild(el('blockquote', 'fx-tv-excerpt', item.excerpt)); }
        });
        var bar = el('div', 'fx-tv-actions');
        bar.setAttribute('role', 'group');
        ['claim', 'resolve', 'snooze', 'not-useful'].forEach(function (action) {
          if (action === 'claim' && n.state === 'claimed') { return; }
          var b = el('button', 'fx-button', s[action]);
          b.type = 'button';
          b.addEventListener('click', function () { act(n.nudge_id, action, i); });
          bar.appendChild(b);
        });
        li.appendChild(bar);
        list.appendChild(li);
      });
    });
    if (!index) { say(s.empty); }
    if (focusIndex !== undefined) {
      var hs = list.querySelectorAll('h4');
      var target = hs[Math.min(focusIndex, hs.length - 1)] || root.querySelector('.fx-heading');
      target.focus();
    }
  }

  function load(focusIndex) {
    return ui.call(runtime, root, 'queue', {}).then(function (data) {
      if (!data.ok) { say(data.error || s.failed); return; }
      render(data, focusIndex);
    }).catch(function () { say(s.failed); });
  }

  function act(nudgeId, action, index) {
    ui.call(runtime, root, 'act', { nudge_id: nudgeId, action: action }).then(function (data) {
      say(data.ok ? s.done : (data.error || s.failed));
      return load(index);
    }).catch(function () { say(s.failed); });
  }

  root.querySelector('.fx-tv-refresh').addEventListener('click', function () { load(); });
  if (state.page_url && safeUrl(state.page_url)) {
    var link = root.querySelector('.fx-tv-page');
    link.href = safeUrl(state.page_url);
    link.textContent = s.open_page;
    link.hidden = false;
  }
  load().then(function () { if (list.children.length) { say(''); } });
}
