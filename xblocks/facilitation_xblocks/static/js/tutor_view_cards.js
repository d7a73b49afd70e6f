/* One nudge card of the tutor queue, shared by the tutor page and the Tutor view XBlock:
   what the learner wrote (the post, or a reply and the thread it answers), who they are,
   links, times (absolute and relative), one sentence of why, and the actions. All data is
   set with textContent; links only when they are http(s). window.FacilitationCards. */
(function () {
  'use strict';
  var DAY = 86400000;
  var KIND_LEARNER = { silent_learner: true, dropout_risk: true, reflection: true };

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function safeUrl(url) {
    if (!url) { return null; }
    try {
      var u = new URL(url, window.location.href);
      return (u.protocol === 'https:' || u.protocol === 'http:') ? u.href : null;
    } catch (e) { return null; }
  }

  function link(href, text, label) {
    var url = safeUrl(href);
    if (!url) { return el('strong', {}, text); }
    var a = el('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, text);
    if (label) { a.setAttribute('aria-label', label); }
    return a;
  }

  // "Tue 14:02" within a week of now, else "3 Mar 14:02" (the browser's time zone).
  function clock(date, now) {
    var opts = Math.abs(now - date) < 6 * DAY ?
      { weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' } :
      { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
    return date.toLocaleString(undefined, opts);
  }

  function span(ms) {
    var h = Math.abs(ms) / 3600000;
    if (h < 1) { return Math.max(1, Math.round(h * 60)) + ' min'; }
    if (h < 48) { return Math.round(h) + ' h'; }
    return Math.round(h / 24) + ' days';
  }

  function ago(date, now) {
    var ms = now - date;
    return ms >= 0 ? span(ms) + ' ago' : 'in ' + span(ms);
  }

  function parse(iso) {
    var t = Date.parse(iso || '');
    return Number.isFinite(t) ? new Date(t) : null;
  }

  /* "posted Tue 14:02, 26 h ago · reply due Wed 10:02, overdue 4 h" */
  function when(n, now) {
    var parts = [];
    var first = (n.items || []).filter(function (i) { return i.open; })[0] || {};
    var posted = parse(first.posted_at);
    if (posted && !KIND_LEARNER[first.kind]) {
      parts.push('posted ' + clock(posted, now) + ', ' + ago(posted, now));
    } else if (posted) {
      parts.push('last posted ' + clock(posted, now) + ', ' + ago(posted, now));
    } else {
      var raised = parse(first.fired_at) || parse(n.created_at);
      if (raised) { parts.push('raised ' + clock(raised, now) + ', ' + ago(raised, now)); }
    }
    var due = parse(n.respond_by);
    if (due) {
      var verb = first.kind === 'unanswered_post' ? 'reply due ' : 'respond by ';
      parts.push(verb + clock(due, now) + (n.overdue ? ', overdue ' + span(now - due) :
        (due >= now ? ', in ' + span(due - now) : '')));
    }
    if (n.state === 'snoozed' && parse(n.snoozed_until)) {
      parts.push('snoozed until ' + clock(parse(n.snoozed_until), now));
    }
    return parts.join(' · ');
  }

  function stateText(n, me) {
    if (n.state === 'claimed') {
      return n.claimed_by === me ? 'claimed by you' : 'claimed by ' + n.claimed_by;
    }
    return n.state;
  }

  function items(n) {
    var box = el('div', { 'class': 'tq-items' });
    var shown = {};
    (n.items || []).forEach(function (item) {
      // Several rules about one learner say the same of them: show what they wrote once.
      var key = JSON.stringify([item.title, item.excerpt, item.thread_title, item.url]);
      if (!item.open || shown[key]) { return; }
      shown[key] = true;
      var part = el('div', { 'class': 'tq-item' });
      if (KIND_LEARNER[item.kind]) {
        if (item.title) {
          var head = el('p', { 'class': 'tq-item-title' }, 'Latest post: ');
          head.append(link(item.url, item.title));
          part.append(head);
        }
      } else {
        var title = item.title || (item.thread_title ? 'Reply in “' + item.thread_title + '”' :
          'A ' + (item.subject_type || 'post'));
        var line = el('p', { 'class': 'tq-item-title' });
        line.append(link(item.url, title));
        part.append(line);
      }
      part.append(el('blockquote', { 'class': 'tq-excerpt' }, item.excerpt || '(no text)'));
      if (item.thread_title || item.thread_excerpt) {
        var ctx = el('div', { 'class': 'tq-context' });
        ctx.append(el('p', {}, 'In reply to “' + (item.thread_title || 'the thread') + '”'));
        if (item.thread_excerpt) { ctx.append(el('blockquote', {}, item.thread_excerpt)); }
        part.append(ctx);
      }
      box.append(part);
    });
    return box;
  }

  /* The parts of a card that show the nudge (everything but the actions). */
  function view(n, ctx, headingId) {
    var box = el('div', { 'class': 'tq-view' });
    var h = el('h3', { id: headingId, tabindex: '-1', 'class': 'tq-heading' });
    h.append(el('span', { 'class': 'tq-sev tq-sev-' + n.severity }, n.severity), ' ');
    h.append(el('span', { 'class': 'tq-learner' }, n.learner_label || n.learner_id));
    if (n.learner_username && n.learner_username !== n.learner_label) {
      h.append(' ', el('span', { 'class': 'tq-username' }, '@' + n.learner_username));
    }
    h.append(' ', el('span', { 'class': 'tq-state' }, stateText(n, ctx.me.tutor_id)));
    if (n.overdue) { h.append(' ', el('span', { 'class': 'tq-overdue' }, 'overdue')); }
    box.append(h);
    box.append(el('p', { 'class': 'tq-when' }, when(n, ctx.now)));
    if (n.summary) { box.append(el('p', { 'class': 'tq-why' }, n.summary)); }
    box.append(items(n));
    var links = el('p', { 'class': 'tq-links' });
    var who = n.learner_label || n.learner_id;
    [['thread', 'Thread', 'Open the thread'], ['profile', 'Profile', 'Profile of ' + who],
     ['progress', 'Progress', 'Progress of ' + who]].forEach(function (l) {
      var href = safeUrl((n.links || {})[l[0]]);
      if (href) { links.append(link(href, l[1], l[2]), ' '); }
    });
    if (ctx.showQueue) {
      links.append(el('span', { 'class': 'tq-queue' },
        'queue: ' + (ctx.names[n.tutor_id] || n.tutor_id) + ' · ' + n.course_id));
    }
    box.append(links);
    return box;
  }

  function pair(label, control, go) {
    var box = el('span', { 'class': 'tq-pair' });
    box.append(label, ' ', control, ' ', go);
    return box;
  }

  function snoozeChoices(me, now) {
    var out = [['1', '1 hour'], ['4', '4 hours']];
    var tomorrow = new Date(now.getTime() + DAY);
    tomorrow.setHours(9, 0, 0, 0);
    out.push(['at:' + tomorrow.toISOString(), 'Tomorrow ' + clock(tomorrow, now)]);
    if (me.next_shift) { out.push(['next-shift', 'Next shift, ' + clock(parse(me.next_shift), now)]); }
    out.push(['pick', 'Pick a time…']);
    return out;
  }

  /* The actions of a card; ``ctx.act(nudge, action, body)`` runs one. */
  function actions(n, ctx, index) {
    var who = n.learner_label || n.learner_id;
    var id = ctx.prefix + '-' + index;
    var bar = el('div', { 'class': 'tq-actions', role: 'group', 'aria-label': 'Actions for ' + who });
    function button(label, aria, handler, cls) {
      var b = el('button', { type: 'button', 'aria-label': aria, 'class': cls || '' }, label);
      b.addEventListener('click', handler);
      return b;
    }
    if (ctx.bulk) {
      var pick = el('input', { type: 'checkbox', id: id + '-select', 'class': 'tq-select',
                               'aria-label': 'Select nudge for ' + who });
      pick.addEventListener('change', function () { ctx.selected(n.nudge_id, pick.checked); });
      pick.checked = ctx.isSelected(n.nudge_id);
      bar.append(pick);
    }
    if (!(n.state === 'claimed' && n.claimed_by === ctx.me.tutor_id)) {
      bar.append(button('Claim', 'Claim nudge for ' + who, function () { ctx.act(n, 'claim', {}); },
                        'primary tq-claim'));
    }
    bar.append(button('Resolve', 'Resolve nudge for ' + who,
                      function () { ctx.act(n, 'resolve', {}); }, 'tq-resolve'));
    var snooze = el('select', { id: id + '-snooze', 'class': 'tq-snooze-choice' });
    snoozeChoices(ctx.me, ctx.now).forEach(function (c) { snooze.append(el('option', { value: c[0] }, c[1])); });
    var at = el('input', { type: 'datetime-local', id: id + '-snooze-at', 'class': 'tq-snooze-at',
                           'aria-label': 'Snooze until (date and time)', hidden: '' });
    snooze.addEventListener('change', function () { at.hidden = snooze.value !== 'pick'; });
    var snoozeGo = button('Snooze', 'Snooze nudge for ' + who, function () {
      var v = snooze.value, body;
      if (v === 'next-shift') { body = { next_shift: true }; }
      else if (v === 'pick') {
        var t = Date.parse(at.value);
        if (!Number.isFinite(t)) { ctx.say('Choose a date and time to snooze until.'); at.focus(); return; }
        body = { until: new Date(t).toISOString() };
      } else if (v.indexOf('at:') === 0) { body = { until: v.slice(3) }; }
      else { body = { hours: Number(v) }; }
      ctx.act(n, 'snooze', body);
    }, 'tq-snooze');
    bar.append(pair(el('label', { 'for': id + '-snooze', 'class': 'tq-label' }, 'Snooze'), snooze, snoozeGo), at);
    var to = el('select', { id: id + '-to', 'class': 'tq-to' });
    to.append(el('option', { value: '' }, 'Choose…'));
    to.addEventListener('focus', function () { ctx.fillCandidates(n, to); }, { once: true });
    var reassignGo = button('Reassign', 'Reassign nudge for ' + who, function () {
      if (!to.value) { ctx.fillCandidates(n, to); to.focus(); ctx.say('Choose a tutor to reassign to.'); return; }
      ctx.act(n, 'reassign', { to: to.value });
    }, 'tq-reassign');
    bar.append(pair(el('label', { 'for': id + '-to', 'class': 'tq-label' }, 'Reassign to'), to, reassignGo));
    bar.append(button('Not useful', 'Mark nudge for ' + who + ' not useful',
                      function () { ctx.act(n, 'not-useful', {}); }, 'tq-not-useful'));
    bar.append(el('p', { 'class': 'tq-warn', role: 'alert', hidden: '' }));
    return bar;
  }

  /* A choice made and not yet applied: a refresh must not reset it. */
  function touched(bar) {
    var q = function (sel) { return bar.querySelector(sel); };
    return q('.tq-snooze-choice').selectedIndex > 0 || !!q('.tq-snooze-at').value ||
      !!q('.tq-to').value || !q('.tq-warn').hidden;
  }

  function signature(n, ctx) {
    return JSON.stringify([n, ctx.showQueue, ctx.bulk, Math.floor(ctx.now / 60000)]);
  }

  /* A new card, or ``li`` brought up to date: its view is redrawn when the nudge changed;
     its actions only when nobody is using them (focus inside, or a choice not applied). */
  function render(li, n, ctx, index) {
    var headingId = ctx.prefix + '-h-' + n.nudge_id;
    var sig = signature(n, ctx);
    if (!li) {
      li = el('li', { 'class': 'tq-card', 'data-nudge-id': n.nudge_id, 'aria-labelledby': headingId });
    } else if (li.dataset.sig === sig) {
      return li;
    }
    var oldView = li.querySelector('.tq-view');
    var oldBar = li.querySelector('.tq-actions');
    var busy = li.contains(document.activeElement) || (oldBar && touched(oldBar));
    var fresh = view(n, ctx, headingId);
    var focusHeading = oldView && document.activeElement === oldView.querySelector('h3');
    if (oldView) { li.replaceChild(fresh, oldView); } else { li.append(fresh); }
    if (focusHeading) { fresh.querySelector('h3').focus(); }
    if (!oldBar) { li.append(actions(n, ctx, index)); }
    else if (!busy) { li.replaceChild(actions(n, ctx, index), oldBar); }
    li.className = 'tq-card' + (n.overdue ? ' tq-card-overdue' : '');
    li.dataset.sig = sig;
    return li;
  }

  window.FacilitationCards = { render: render, el: el, safeUrl: safeUrl, clock: clock, span: span };
}());
