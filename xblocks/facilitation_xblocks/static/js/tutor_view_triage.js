/* The tutor queue as a triage tool, shared by the tutor page and the Tutor view XBlock:
   counts by severity and rule, filters and sort (kept in the URL where the host allows),
   grouping by course, pages loaded as you go, a refresh that merges by nudge id (focus and
   half-made choices survive), undo, keyboard shortcuts, and for leads the team's load and
   bulk reassign. The host gives ``api(method, path, body)`` -> {ok, status, data}.
   window.FacilitationTriage.mount(options). */
(function () {
  'use strict';
  var C = window.FacilitationCards;
  var el = C.el;
  var SEVERITIES = ['urgent', 'high', 'warning', 'info'];
  var STATES = ['new', 'claimed', 'snoozed', 'escalated'];
  var SORTS = [['due', 'Due first'], ['oldest', 'Oldest first'], ['severity', 'Most severe first']];
  var FILTERS = ['scope', 'severity', 'rule', 'course', 'state', 'claimed', 'overdue', 'sort', 'group'];
  var PAGE = 25;
  var KEYS = [['j / k', 'next / previous nudge'], ['c', 'claim'], ['r', 'resolve'],
              ['s', 'snooze (choose)'], ['a', 'reassign (choose)'], ['n', 'not useful'],
              ['x', 'select (leads, team view)'], ['u', 'undo'], ['/', 'filters'], ['?', 'this help']];

  function select(name, label, options, id) {
    var wrap = el('label', { 'for': id, 'class': 'tq-field' }, label + ' ');
    var s = el('select', { id: id, name: name });
    options.forEach(function (o) { s.append(el('option', { value: o[0] }, o[1])); });
    wrap.append(s);
    return wrap;
  }

  function check(name, label, id) {
    var wrap = el('label', { 'for': id, 'class': 'tq-field tq-check' });
    wrap.append(el('input', { type: 'checkbox', id: id, name: name }), ' ' + label);
    return wrap;
  }

  function mount(o) {
    var me = o.me, prefix = o.prefix || 'tq', root = o.root;
    var state = { shown: PAGE, data: null, team: null, selected: {}, undo: null, undoTimer: 0 };
    var cards = {};
    var ui = el('div', { 'class': 'fx-triage' });
    var counts = el('div', { 'class': 'tq-counts', role: 'group', 'aria-label': 'Counts' });
    var form = el('form', { 'class': 'tq-filters', 'aria-label': 'Filters' });
    var scopes = [['me', 'My queue']];
    if (me.lead) {
      scopes.push(['all', 'Whole team']);
      me.team.forEach(function (t) { if (t !== me.tutor_id) { scopes.push([t, 'Queue of ' + (me.names[t] || t)]); } });
    }
    form.append(select('scope', 'Show', scopes, prefix + '-scope'));
    form.append(select('severity', 'Severity', [['', 'Any']].concat(SEVERITIES.map(function (s) { return [s, s]; })), prefix + '-severity'));
    form.append(select('rule', 'Rule', [['', 'Any']], prefix + '-rule'));
    form.append(select('course', 'Course', [['', 'Any']], prefix + '-course'));
    form.append(select('state', 'State', [['', 'Any']].concat(STATES.map(function (s) { return [s, s]; })), prefix + '-state'));
    form.append(check('claimed', 'Claimed by me', prefix + '-claimed'));
    form.append(check('overdue', 'Overdue only', prefix + '-overdue'));
    form.append(select('sort', 'Sort', SORTS, prefix + '-sort'));
    form.append(check('group', 'Group by course', prefix + '-group'));
    var helpButton = el('button', { type: 'button', 'class': 'tq-help-button', 'aria-expanded': 'false' }, 'Keyboard shortcuts');
    form.append(helpButton);
    var help = el('div', { 'class': 'tq-help', hidden: '' });
    var dl = el('dl');
    KEYS.forEach(function (k) { dl.append(el('dt', {}, k[0]), el('dd', {}, k[1])); });
    help.append(el('p', {}, 'Keys work when no field has the focus.'), dl);
    var team = el('section', { 'class': 'tq-team', hidden: '', 'aria-label': 'Team' });
    var bulk = el('div', { 'class': 'tq-bulk', hidden: '', role: 'group', 'aria-label': 'Selected nudges' });
    var summary = el('h2', { 'class': 'tq-summary', tabindex: '-1', id: prefix + '-summary' });
    var list = el('div', { 'class': 'tq-list' });
    var more = el('button', { type: 'button', 'class': 'tq-more', hidden: '' }, 'Show more');
    var undoBar = el('div', { 'class': 'tq-undo', hidden: '' });
    var undoText = el('span');
    var undoButton = el('button', { type: 'button', 'class': 'tq-undo-button' }, 'Undo');
    undoBar.append(undoText, ' ', undoButton);
    // On a phone the filters fold away (their choices show in the counts and the URL).
    var filterBox = el('details', { 'class': 'tq-filter-box' });
    filterBox.open = !window.matchMedia('(max-width: 600px)').matches;
    filterBox.append(el('summary', {}, 'Filters and sort'), form, help);
    ui.append(counts, filterBox, team, bulk, summary, list, more, undoBar);
    root.append(ui);

    function field(name) { return form.elements[name]; }
    function params() {
      var p = new URLSearchParams();
      FILTERS.forEach(function (name) {
        var f = field(name);
        var v = f.type === 'checkbox' ? (f.checked ? '1' : '') : f.value;
        if (v && !(name === 'scope' && v === 'me') && !(name === 'sort' && v === 'due')) { p.set(name, v); }
      });
      return p;
    }
    function ensureOption(f, value) {
      if (value && !Array.prototype.some.call(f.options, function (x) { return x.value === value; })) {
        f.append(el('option', { value: value }, value));
      }
    }
    (function restore() {
      var p = o.state ? o.state.read() : new URLSearchParams();
      FILTERS.forEach(function (name) {
        var f = field(name), v = p.get(name) || '';
        if (f.type === 'checkbox') { f.checked = v === '1'; return; }
        if (!v) { return; }
        ensureOption(f, v);
        f.value = v;
      });
    }());

    function query(offset, limit) {
      var p = params();
      p.delete('group');
      if (p.get('claimed')) { p.set('claimed', 'me'); }
      p.set('offset', String(offset));
      p.set('limit', String(limit));
      return '/api/v1/queue?' + p.toString();
    }

    async function fetchShown() {
      var pages = [], need = state.shown, offset = 0, first = null;
      while (need > 0) {
        var res = await o.api('GET', query(offset, Math.min(100, need)));
        if (!res.ok) { return res; }
        first = first || res.data;
        pages = pages.concat(res.data.nudges);
        if (offset + res.data.nudges.length >= res.data.total || !res.data.nudges.length) { break; }
        offset += res.data.nudges.length;
        need -= res.data.nudges.length;
      }
      first.nudges = pages;
      return { ok: true, data: first };
    }

    function fillCounts(data) {
      var c = data.counts;
      var had = counts.contains(document.activeElement) ? document.activeElement.dataset : null;
      var refocus = had ? [had.filter, had.value] : null;
      counts.replaceChildren();
      function toggle(label, count, name, value) {
        var f = field(name);
        var on = f.type === 'checkbox' ? f.checked : f.value === value;
        var b = el('button', { type: 'button', 'aria-pressed': String(on), 'class': 'tq-count tq-count-' + value,
                               'data-filter': name, 'data-value': value }, label + ' ' + count);
        b.addEventListener('click', function () {
          if (f.type === 'checkbox') { f.checked = !f.checked; } else { f.value = on ? '' : value; }
          changed();
        });
        counts.append(b);
        if (refocus && refocus[0] === name && refocus[1] === value) { b.focus(); }
      }
      SEVERITIES.forEach(function (s) { if (c.severity[s]) { toggle(s, c.severity[s], 'severity', s); } });
      toggle('overdue', c.overdue, 'overdue', '1');
      toggle('claimed by me', c.claimed_by_me, 'claimed', '1');
      [['rule', c.rule], ['course', c.course]].forEach(function (pair) {
        var f = field(pair[0]), keep = f.value;
        if (document.activeElement === f) { return; }  // never under the tutor's hands
        f.replaceChildren(el('option', { value: '' }, 'Any'));
        Object.keys(pair[1]).forEach(function (k) { f.append(el('option', { value: k }, k + ' (' + pair[1][k] + ')')); });
        ensureOption(f, keep);
        f.value = keep;
      });
    }

    function fillTeam(rows) {
      team.replaceChildren(el('h2', {}, 'Team'));
      var table = el('table', { 'class': 'tq-team-table' });
      var head = el('tr');
      ['Tutor', 'Shift', 'Open / capacity', 'Claimed', 'Overdue'].forEach(function (h) { head.append(el('th', { scope: 'col' }, h)); });
      var thead = el('thead');
      thead.append(head);
      table.append(thead);
      var body = el('tbody');
      rows.forEach(function (r) {
        var tr = el('tr', { 'data-tutor': r.tutor_id, 'class': r.over_capacity ? 'tq-over' : '' });
        var name = el('button', { type: 'button', 'class': 'tq-link' }, r.name + (r.lead ? ' (lead)' : ''));
        name.addEventListener('click', function () { ensureOption(field('scope'), r.tutor_id); field('scope').value = r.tutor_id; changed(); });
        var th = el('th', { scope: 'row' });
        th.append(name);
        tr.append(th);
        var shift = r.away ? 'away' : r.on_shift ? 'on shift' :
          r.next_shift ? 'off, back ' + C.clock(new Date(r.next_shift), new Date(state.data.now)) : 'no hours';
        tr.append(el('td', {}, shift));
        tr.append(el('td', {}, r.open + ' / ' + r.capacity + (r.over_capacity ? ' — over capacity' : '')));
        tr.append(el('td', {}, String(r.claimed)), el('td', {}, String(r.overdue)));
        body.append(tr);
      });
      table.append(body);
      team.append(table);
    }

    function fillBulk() {
      var ids = Object.keys(state.selected);
      bulk.hidden = !ids.length;
      if (!ids.length) { return; }
      bulk.replaceChildren(el('span', {}, ids.length + ' selected '));
      var to = el('select', { id: prefix + '-bulk-to', 'aria-label': 'Reassign the selected nudges to' });
      me.team.forEach(function (t) { to.append(el('option', { value: t }, me.names[t] || t)); });
      var go = el('button', { type: 'button', 'class': 'tq-bulk-go' }, 'Reassign selected');
      var warn = el('p', { 'class': 'tq-warn', role: 'alert', hidden: '' });
      function send(override) {
        o.api('POST', '/api/v1/team/reassign', { nudge_ids: ids, to: to.value, override: override }).then(function (res) {
          if (res.status === 409 && res.data.warnings) {
            warn.hidden = false;
            warn.textContent = res.data.error + ' ';
            var anyway = el('button', { type: 'button' }, 'Reassign anyway');
            anyway.addEventListener('click', function () { send(true); });
            warn.append(anyway);
            anyway.focus();
            return;
          }
          if (!res.ok) { o.announce(res.data.error || 'Could not reassign.'); return; }
          state.selected = {};
          o.announce('Reassigned ' + res.data.results.filter(function (r) { return r.status === 'ok'; }).length +
                     ' nudges to ' + (me.names[to.value] || to.value) + '.');
          refresh();
        });
      }
      go.addEventListener('click', function () { send(false); });
      bulk.append(to, ' ', go, warn);
    }

    function render(data) {
      var now = new Date(data.now);
      var grouped = field('group').checked;
      var ctx = {
        me: me, now: now, prefix: prefix, names: me.names || {}, showQueue: field('scope').value !== 'me',
        bulk: me.lead && field('scope').value !== 'me', act: act, say: o.announce,
        fillCandidates: fillCandidates,
        selected: function (id, on) { if (on) { state.selected[id] = true; } else { delete state.selected[id]; } fillBulk(); },
        isSelected: function (id) { return !!state.selected[id]; },
      };
      var active = document.activeElement;
      var groups = {}, order = [];
      data.nudges.forEach(function (n) {
        var key = grouped ? n.course_id : '';
        if (!groups[key]) { groups[key] = []; order.push(key); }
        groups[key].push(n);
      });
      var sections = {};
      Array.prototype.forEach.call(list.children, function (s) { sections[s.dataset.group] = s; });
      var seen = {}, index = 0;
      order.forEach(function (key, gi) {
        var sec = sections[key];
        if (!sec) {
          sec = el('section', { 'class': 'tq-group', 'data-group': key });
          if (key) { sec.append(el('h3', { 'class': 'tq-group-heading' })); }
          sec.append(el('ol', { 'class': 'tq-nudges' }));
        }
        if (key) { sec.firstChild.textContent = key + ' (' + groups[key].length + ')'; }
        if (list.children[gi] !== sec) { list.insertBefore(sec, list.children[gi] || null); }
        var ol = sec.querySelector('ol');
        groups[key].forEach(function (n, i) {
          var li = C.render(cards[n.nudge_id], n, ctx, index++);
          cards[n.nudge_id] = li;
          seen[n.nudge_id] = true;
          if (ol.children[i] !== li) { ol.insertBefore(li, ol.children[i] || null); }
        });
        while (ol.children.length > groups[key].length) { ol.lastChild.remove(); }
        seen['group:' + key] = true;
      });
      Object.keys(cards).forEach(function (id) { if (!seen[id]) { cards[id].remove(); delete cards[id]; } });
      Array.prototype.slice.call(list.children).forEach(function (s) { if (!seen['group:' + s.dataset.group]) { s.remove(); } });
      if (active && active !== document.body && document.contains(active) && document.activeElement !== active) { active.focus(); }
      var total = data.total;
      summary.textContent = total ? 'Nudges: showing ' + data.nudges.length + ' of ' + total : 'Nothing waiting. Well done.';
      more.hidden = data.nudges.length >= total;
    }

    async function refresh() {
      var res = await fetchShown();
      if (!res.ok) {
        if (res.status !== 401) { o.announce((res.data && res.data.error) || 'Could not load the queue.'); }
        return false;
      }
      state.data = res.data;
      fillCounts(res.data);
      var showTeam = me.lead && field('scope').value === 'all';
      team.hidden = !showTeam;
      if (showTeam) {
        var t = await o.api('GET', '/api/v1/team');
        if (t.ok) { fillTeam(t.data.tutors); }
      }
      render(res.data);
      fillBulk();
      return true;
    }

    function changed() {
      state.shown = PAGE;
      if (o.state) { o.state.write(params()); }
      refresh();
    }
    form.addEventListener('change', changed);
    form.addEventListener('submit', function (ev) { ev.preventDefault(); });
    more.addEventListener('click', function () {
      var next = state.data ? state.data.nudges.length : 0;
      state.shown += PAGE;
      refresh().then(function () {
        var li = list.querySelectorAll('.tq-card')[next];
        if (li) { li.querySelector('h3').focus(); }
      });
    });
    helpButton.addEventListener('click', function () {
      help.hidden = !help.hidden;
      helpButton.setAttribute('aria-expanded', String(!help.hidden));
    });

    async function fillCandidates(n, to) {
      if (to.dataset.loaded) { return; }
      to.dataset.loaded = '1';
      var res = await o.api('GET', '/api/v1/nudges/' + encodeURIComponent(n.nudge_id) + '/candidates');
      if (!res.ok) { return; }
      var keep = to.value;
      to.replaceChildren(el('option', { value: '' }, 'Choose…'));
      res.data.candidates.forEach(function (c) {
        var note = c.recommended ? ' — recommended' : c.warnings.length ? ' — ' + c.warnings.join('; ') : ' — fits';
        to.append(el('option', { value: c.tutor_id, 'data-warnings': c.warnings.join('; ') }, c.name + note));
      });
      to.value = keep;
    }

    function cardOf(n) { return cards[n.nudge_id]; }

    async function act(n, action, body, override) {
      var who = n.learner_label || n.learner_id;
      var li = cardOf(n);
      var position = Array.prototype.indexOf.call(list.querySelectorAll('.tq-card'), li);
      var res = await o.api('POST', '/api/v1/nudges/' + encodeURIComponent(n.nudge_id) + '/' + action,
                            override ? Object.assign({ override: true }, body) : body);
      var warn = li && li.querySelector('.tq-warn');
      if (res.status === 409 && res.data.warnings && warn) {
        warn.hidden = false;
        warn.textContent = res.data.error + ' ';
        var anyway = el('button', { type: 'button' }, 'Reassign anyway');
        anyway.addEventListener('click', function () { act(n, action, body, true); });
        warn.append(anyway);
        anyway.focus();
        return;
      }
      if (!res.ok) {
        if (res.status !== 401) { o.announce('Could not ' + action + ' the nudge for ' + who + ': ' + ((res.data && res.data.error) || 'error ' + res.status)); }
        return;
      }
      var done = { claim: 'Claimed', resolve: 'Resolved', snooze: 'Snoozed', reassign: 'Reassigned',
                   'not-useful': 'Marked not useful', undo: 'Undone' }[action];
      if (li) { li.dataset.sig = ''; li.querySelector('.tq-actions').remove(); }  // fresh actions
      if (action === 'resolve' || action === 'not-useful' || action === 'reassign') {
        offerUndo(n, action, done + ': nudge for ' + who + '.');
      } else {
        o.announce(done + ': nudge for ' + who + '.');
      }
      await refresh();
      var target = cardOf(n) || list.querySelectorAll('.tq-card')[Math.max(0, position)];
      (target ? target.querySelector('h3') : summary).focus();
    }

    function offerUndo(n, action, text) {
      window.clearTimeout(state.undoTimer);
      state.undo = { n: n, action: action };
      undoText.textContent = text;
      undoBar.hidden = false;
      o.announce(text + ' Press u or Undo to take it back.');
      var seconds = Math.max(3, Math.min(10, (me.undo_seconds || 10) - 5));
      state.undoTimer = window.setTimeout(function () { undoBar.hidden = true; state.undo = null; }, seconds * 1000);
    }

    async function undo() {
      if (!state.undo) { return; }
      var u = state.undo;
      state.undo = null;
      undoBar.hidden = true;
      window.clearTimeout(state.undoTimer);
      var res = await o.api('POST', '/api/v1/nudges/' + encodeURIComponent(u.n.nudge_id) + '/undo', { action: u.action });
      var who = u.n.learner_label || u.n.learner_id;
      o.announce(res.ok ? 'Undone: the nudge for ' + who + ' is back.' : 'Could not undo: ' + ((res.data && res.data.error) || res.status));
      await refresh();
      var li = cards[u.n.nudge_id];
      if (li) { li.querySelector('h3').focus(); }
    }
    undoButton.addEventListener('click', undo);

    function onKey(ev) {
      var t = ev.target;
      if (ev.ctrlKey || ev.metaKey || ev.altKey || /^(INPUT|SELECT|TEXTAREA)$/.test(t.tagName) || t.isContentEditable) { return; }
      var all = Array.prototype.slice.call(list.querySelectorAll('.tq-card'));
      var current = all.filter(function (li) { return li.contains(document.activeElement); })[0];
      function go(li) { if (li) { li.querySelector('h3').focus(); li.scrollIntoView({ block: 'nearest' }); } }
      function press(sel) { var b = current && current.querySelector(sel); if (b) { b.click(); } }
      function focus(sel) { var f = current && current.querySelector(sel); if (f) { f.focus(); } }
      var k = ev.key;
      if (k === 'j') { go(all[current ? all.indexOf(current) + 1 : 0]); }
      else if (k === 'k') { go(all[current ? Math.max(0, all.indexOf(current) - 1) : 0]); }
      else if (k === 'c') { press('.tq-claim'); }
      else if (k === 'r') { press('.tq-resolve'); }
      else if (k === 'n') { press('.tq-not-useful'); }
      else if (k === 's') { focus('.tq-snooze-choice'); }
      else if (k === 'a') { focus('.tq-to'); }
      else if (k === 'x') { press('.tq-select'); }
      else if (k === 'u') { undo(); }
      else if (k === '/') { filterBox.open = true; field('severity').focus(); }
      else if (k === '?') { filterBox.open = true; helpButton.click(); }
      else { return; }
      ev.preventDefault();
    }
    (o.keyTarget || root).addEventListener('keydown', onKey);

    var timer = o.refreshSeconds ? window.setInterval(function () { refresh(); }, o.refreshSeconds * 1000) : 0;
    return {
      refresh: refresh,
      focusList: function () { summary.focus(); },
      destroy: function () {
        window.clearInterval(timer);
        window.clearTimeout(state.undoTimer);
        (o.keyTarget || root).removeEventListener('keydown', onKey);
        ui.remove();
      },
    };
  }

  window.FacilitationTriage = { mount: mount };
}());
