/* Discussion XBlock: threads, replies (responses) and comments, rendered from JSON. */
function FacilitationDiscussion(runtime, element, args) {
  'use strict';
  var ui = window.FacilitationUI;
  var block = ui.block(element, args);
  var init = block.init, root = block.root, t = block.t, say = block.say;
  var list = root.querySelector('.fx-threads');
  var newThread = root.querySelector('.fx-new-thread');

  function article(post, level) {
    var node = ui.el('article', 'fx-post fx-' + level);
    node.tabIndex = -1;  /* focus target after posting */
    node.setAttribute('data-post-id', post.id);
    return node;
  }

  function submit(handler, payload, field, button, doneText) {
    ui.send({
      runtime: runtime, root: root, handler: handler, payload: payload, field: field,
      button: button, say: say, failedText: t.failed,
      onDone: function (reply) { render(reply.threads); return doneText; },
      afterAnnounce: function (reply) { ui.focusItem(root, reply.post_id); }
    });
  }

  function replyForm(id, threadId, responseId, isComment) {
    return ui.inlineForm({
      id: id,
      toggleClass: isComment ? 'fx-comment-toggle' : 'fx-reply-toggle',
      formClass: isComment ? 'fx-comment-form' : 'fx-reply-form',
      toggleText: isComment ? t.comment : t.reply,
      label: isComment ? t.comment_label : t.reply_label,
      sendText: t.send,
      cancelText: t.cancel,
      onSubmit: function (body, area, button) {
        var payload = { thread_id: threadId, body: body };
        if (responseId) { payload.response_id = responseId; }
        submit('post_reply', payload, area, button, t.replied);
      }
    });
  }

  function renderComment(comment) {
    var item = ui.el('li');
    var node = article(comment, 'comment');
    node.appendChild(ui.meta(comment.author, comment.created, t.by));
    node.appendChild(ui.el('p', 'fx-body', comment.body));
    item.appendChild(node);
    return item;
  }

  function renderResponse(thread, response) {
    var item = ui.el('li');
    var node = article(response, 'response');
    node.appendChild(ui.meta(response.author, response.created, t.by));
    node.appendChild(ui.el('p', 'fx-body', response.body));
    var comments = ui.el('ul', 'fx-comments');
    response.comments.forEach(function (c) { comments.appendChild(renderComment(c)); });
    node.appendChild(comments);
    node.appendChild(replyForm(init.prefix + '-c-' + response.id, thread.id, response.id, true));
    item.appendChild(node);
    return item;
  }

  function renderThread(thread) {
    var item = ui.el('li');
    var node = article(thread, 'thread');
    var title = ui.el('h5', 'fx-thread-title', thread.title);
    if (thread.question) { title.appendChild(ui.badge('question', t.question)); }
    node.appendChild(title);
    node.appendChild(ui.meta(thread.author, thread.created, t.by));
    node.appendChild(ui.el('p', 'fx-body', thread.body));
    var replies = ui.el('ol', 'fx-replies');
    replies.setAttribute('aria-label', t.responses);
    thread.responses.forEach(function (r) { replies.appendChild(renderResponse(thread, r)); });
    node.appendChild(replies);
    node.appendChild(replyForm(init.prefix + '-r-' + thread.id, thread.id, null, false));
    item.appendChild(node);
    return item;
  }

  function render(threads) {
    list.textContent = '';
    if (!threads.length) {
      list.appendChild(ui.el('li', 'fx-empty', t.empty));
      return;
    }
    threads.forEach(function (thread) { list.appendChild(renderThread(thread)); });
  }

  newThread.addEventListener('submit', function (event) {
    event.preventDefault();
    var title = newThread.elements.title;
    var body = newThread.elements.body;
    var button = newThread.querySelector('button[type="submit"]');
    var payload = { title: title.value, body: body.value,
                    question: newThread.elements.question.checked };
    button.disabled = true;
    ui.call(runtime, root, 'post_thread', payload).then(function (reply) {
      button.disabled = false;
      if (!reply.ok) {
        say(reply.error, true);
        (title.value.trim() ? body : title).focus();
        return;
      }
      newThread.reset();
      render(reply.threads);
      say(t.posted, false);
      ui.focusItem(root, reply.post_id);
    }).catch(function () {
      button.disabled = false;
      say(t.failed, true);
    });
  });

  render(init.threads);
  root.setAttribute('data-fx-ready', 'true');  /* handlers bound */
}
