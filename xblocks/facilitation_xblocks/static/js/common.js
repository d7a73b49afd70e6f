/* Shared by the facilitation XBlocks. Learner text is only ever set with textContent. */
window.FacilitationUI = window.FacilitationUI || (function () {
  'use strict';

  function rootOf(element) {
    return element && element.jquery ? element[0] : element;  // some runtimes pass jQuery
  }

  /* What every block's script starts from: its state (see rendering.script_safe_json), its
     root element, its strings and its status line. */
  function block(element, args) {
    var root = rootOf(element);
    var init = JSON.parse(args.state);
    return { init: init, root: root, t: init.strings, say: status(root) };
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : '';
  }

  function call(runtime, root, handler, payload) {
    return fetch(runtime.handlerUrl(root, handler), {
      method: 'POST',
      credentials: 'same-origin',
      headers: {
        'Content-Type': 'application/json',
        'X-CSRFToken': csrfToken(),
        'X-Requested-With': 'XMLHttpRequest'
      },
      body: JSON.stringify(payload)
    }).then(function (response) {
      if (!response.ok) { throw new Error('HTTP ' + response.status); }
      return response.json();
    });
  }

  /* Post one form field's value to a handler: the button is disabled while it runs; a
     refusal or a failure is announced and marks and focuses the field; onDone(reply)
     renders an accepted reply and returns what to announce. */
  function send(opts) {
    var field = opts.field;
    var button = opts.button;
    button.disabled = true;
    return call(opts.runtime, opts.root, opts.handler, opts.payload).then(function (reply) {
      button.disabled = false;
      if (!reply.ok) {
        opts.say(reply.error, true);
        field.setAttribute('aria-invalid', 'true');
        field.focus();
        return;
      }
      field.removeAttribute('aria-invalid');
      opts.say(opts.onDone(reply), false);
      if (opts.afterAnnounce) { opts.afterAnnounce(reply); }
    }).catch(function () {
      button.disabled = false;
      opts.say(opts.failedText, true);
      field.focus();
    });
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function badge(kind, label) {
    return el('span', 'fx-badge fx-badge-' + kind, label);
  }

  /* "name [Staff] · date" — the role badge marks staff and tutor posts. */
  function meta(author, created, by) {
    var line = el('p', 'fx-meta');
    line.appendChild(document.createTextNode(by + ' '));
    line.appendChild(el('span', 'fx-author', author.name));
    if (author.role && author.role !== 'learner') {
      line.appendChild(badge(author.role, author.role_label));
    }
    var time = el('time', null, new Date(created).toLocaleString());
    time.setAttribute('datetime', created);
    line.appendChild(document.createTextNode(' · '));
    line.appendChild(time);
    return line;
  }

  function status(root) {
    var node = root.querySelector('.fx-status');
    return function (text, isError) {
      node.textContent = text;
      node.classList.toggle('fx-error', !!isError);
    };
  }

  /* A collapsible one-field form: toggle button with aria-expanded, label, textarea. */
  function inlineForm(opts) {
    var wrap = el('div', 'fx-inline');
    var toggle = el('button', 'fx-toggle ' + opts.toggleClass, opts.toggleText);
    toggle.type = 'button';
    toggle.setAttribute('aria-expanded', 'false');
    toggle.setAttribute('aria-controls', opts.id + '-form');
    var form = el('form', 'fx-inline-form ' + opts.formClass);
    form.id = opts.id + '-form';
    form.hidden = true;
    form.noValidate = true;
    var label = el('label', null, opts.label);
    label.htmlFor = opts.id;
    var area = el('textarea');
    area.id = opts.id;
    area.name = 'body';
    area.rows = 3;
    var send = el('button', 'fx-button', opts.sendText);
    send.type = 'submit';
    var cancel = el('button', 'fx-button fx-cancel', opts.cancelText);
    cancel.type = 'button';
    form.appendChild(label);
    form.appendChild(area);
    form.appendChild(send);
    form.appendChild(cancel);
    function open(show) {
      form.hidden = !show;
      toggle.setAttribute('aria-expanded', show ? 'true' : 'false');
      (show ? area : toggle).focus();
    }
    toggle.addEventListener('click', function () { open(form.hidden); });
    cancel.addEventListener('click', function () { open(false); });
    form.addEventListener('keydown', function (event) {
      if (event.key === 'Escape') { open(false); }
    });
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      opts.onSubmit(area.value, area, send);
    });
    wrap.appendChild(toggle);
    wrap.appendChild(form);
    return wrap;
  }

  /* Focus a freshly rendered item so keyboard and screen-reader users land on it. */
  function focusItem(root, id) {
    if (!id) { return; }
    var node = root.querySelector('[data-post-id="' + CSS.escape(id) + '"]');
    if (node) { node.focus(); }
  }

  return { rootOf: rootOf, block: block, call: call, send: send, el: el, badge: badge, meta: meta, status: status,
           inlineForm: inlineForm, focusItem: focusItem };
}());
