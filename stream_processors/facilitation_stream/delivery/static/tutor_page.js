// The standalone tutor page: sign-in, then the shared triage view (tutor_view_triage.js)
// on the tutor API with the tutor's token. Filters and sort live in the URL's query, so a
// view can be bookmarked or shared; ?refresh=N sets the auto-refresh (seconds, 2-600).
// The token lives in sessionStorage of this tab only.
"use strict";

(function () {
  const API = "";
  const TOKEN_KEY = "facilitation.token";
  const $ = (id) => document.getElementById(id);
  let me = null;
  let view = null;

  function token() { return sessionStorage.getItem(TOKEN_KEY); }

  function announce(text) {
    // Clear first so the same message twice is still announced.
    $("status").textContent = "";
    window.setTimeout(() => { $("status").textContent = text; }, 30);
  }

  async function api(method, path, body) {
    let res;
    try {
      res = await fetch(API + path, {
        method,
        headers: Object.assign(
          { "Authorization": "Bearer " + token() },
          body ? { "Content-Type": "application/json" } : {}
        ),
        body: body ? JSON.stringify(body) : undefined,
      });
    } catch (e) {  // offline, or the server restarting: say so, try again next refresh
      return { ok: false, status: 0, data: { error: "The tutor API cannot be reached." } };
    }
    let data = {};
    try { data = await res.json(); } catch (e) { data = {}; }
    if (res.status === 401 && me) { signOut("Your session ended: please sign in again."); }
    return { ok: res.ok, status: res.status, data };
  }

  const urlState = {
    read: () => new URLSearchParams(window.location.search),
    write: (params) => {
      const keep = new URLSearchParams(window.location.search).get("refresh");
      if (keep) { params.set("refresh", keep); }
      const q = params.toString();
      window.history.replaceState(null, "", window.location.pathname + (q ? "?" + q : ""));
    },
  };

  function refreshSeconds() {
    const n = Number(new URLSearchParams(window.location.search).get("refresh") || 30);
    return Number.isFinite(n) ? Math.min(600, Math.max(2, n)) : 30;
  }

  async function signIn(value) {
    sessionStorage.setItem(TOKEN_KEY, value);
    const res = await api("GET", "/api/v1/me");
    if (!res.ok) {
      sessionStorage.removeItem(TOKEN_KEY);
      announce(res.status === 401 ? "That token was not accepted." : "Sign-in failed.");
      $("signin").hidden = false;
      $("token").focus();
      return false;
    }
    me = res.data;
    $("who").textContent = "Signed in as " + me.name + (me.lead ? " (lead)" : "") +
      (me.on_shift ? " · on shift" : "");
    $("signin").hidden = true;
    $("toolbar").hidden = false;
    $("queue").hidden = false;
    view = window.FacilitationTriage.mount({
      root: $("queue"), api, me, announce, state: urlState, keyTarget: document,
      prefix: "tq", refreshSeconds: refreshSeconds(),
    });
    await view.refresh();
    view.focusList();
    return true;
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    if (view) { view.destroy(); view = null; }
    me = null;
    $("queue").hidden = true;
    $("toolbar").hidden = true;
    $("who").textContent = "";
    $("signin").hidden = false;
    if (message) { announce(message); }
    $("token").focus();
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("signin").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const value = $("token").value.trim();
      $("token").value = "";
      if (value) { await signIn(value); }
    });
    $("refresh").addEventListener("click", async () => {
      if (view && await view.refresh()) { announce("Queue refreshed."); }
    });
    $("signout").addEventListener("click", () => signOut("Signed out."));
    if (token()) { signIn(token()); } else { signOut(); }
  });
})();
