/* Reflection XBlock: the learner's own reflection and the community's shared ones. */
function FacilitationReflection(runtime, element, args) {
  'use strict';
  var ui = window.FacilitationUI;
  var block = ui.block(element, args);
  var init = block.init, root = block.root, t = block.t, say = block.say;
  var form = root.querySelector('.fx-reflect');
  var area = form.elements.text;
  var shareBox = form.elements.share;
  var shareButton = root.querySelector('.fx-share');
  var mineState = root.querySelector('.fx-mine-state');
  var list = root.querySelector('.fx-shared');

  function renderMine(mine, closed) {
    if (mine.text && !area.value) { area.value = mine.text; }
    mineState.textContent = mine.submitted_at ? (mine.shared ? t.state_shared : t.state_private) : '';
    shareButton.hidden = !mine.submitted_at || mine.shared || closed;
    root.querySelector('.fx-share-choice').hidden = mine.shared;
    form.querySelector('button[type="submit"]').disabled = closed;
    area.readOnly = closed;
  }

  function renderEntry(entry) {
    var item = ui.el('li');
    var node = ui.el('article', 'fx-post fx-shared-reflection');
    node.tabIndex = -1;
    node.setAttribute('data-post-id', entry.id);
    var meta = ui.meta(entry.author, entry.created, t.by);
    if (entry.mine) { meta.appendChild(document.createTextNode(' ' + t.yours)); }
    node.appendChild(meta);
    node.appendChild(ui.el('p', 'fx-body', entry.body));
    var comments = ui.el('ul', 'fx-comments');
    entry.comments.forEach(function (c) {
      var li = ui.el('li');
      var art = ui.el('article', 'fx-post fx-comment');
      art.tabIndex = -1;
      art.setAttribute('data-post-id', c.id);
      art.appendChild(ui.meta(c.author, c.created, t.by));
      art.appendChild(ui.el('p', 'fx-body', c.body));
      li.appendChild(art);
      comments.appendChild(li);
    });
    node.appendChild(comments);
    node.appendChild(ui.inlineForm({
      id: init.prefix + '-c-' + entry.id, toggleClass: 'fx-comment-toggle',
      formClass: 'fx-comment-form', toggleText: t.comment, label: t.comment_label,
      sendText: t.send, cancelText: t.cancel,
      onSubmit: function (body, field, button) {
        send('comment', { reflection_id: entry.id, body: body }, field, button, t.commented);
      }
    }));
    item.appendChild(node);
    return item;
  }

  function render(state) {
    renderMine(state.mine, state.closed);
    list.textContent = '';
    if (!state.community.length) { list.appendChild(ui.el('li', 'fx-empty', t.empty)); }
    state.community.forEach(function (entry) { list.appendChild(renderEntry(entry)); });
  }

  function send(handler, payload, field, button, doneText) {
    ui.send({
      runtime: runtime, root: root, handler: handler, payload: payload, field: field,
      button: button, say: say, failedText: t.failed,
      onDone: function (reply) {
        render(reply);
        return typeof doneText === 'function' ? doneText(reply) : doneText;
      },
      afterAnnounce: function (reply) {
        if (reply.post_id) { ui.focusItem(root, reply.post_id); } else { mineState.focus(); }
      }
    });
  }

  mineState.tabIndex = -1;  /* focus target after saving or sharing */

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    send('submit', { text: area.value, share: shareBox.checked }, area,
         form.querySelector('button[type="submit"]'),
         function (reply) { return reply.mine.shared ? t.shared : t.saved; });
  });

  shareButton.addEventListener('click', function () {
    send('share', {}, shareButton, shareButton, t.shared);
  });

  render(init);
  root.setAttribute('data-fx-ready', 'true');  /* handlers bound */
}
