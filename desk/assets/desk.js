// The desk's one script: live countdowns of the clocks, and a case page
// that notices when its case changed (short polling). Everything works
// without it; it only adds the time left and the refresh.
(function () {
  "use strict";
  var zh = document.documentElement.lang.indexOf("zh") === 0;
  function fmt(ms) {
    var neg = ms < 0, s = Math.floor(Math.abs(ms) / 1000);
    var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60), sec = s % 60;
    var out = (d ? d + (zh ? "天" : "d ") : "") + (d || h ? h + (zh ? "小时" : "h ") : "") + m + (zh ? "分" : "m ") + (d ? "" : sec + (zh ? "秒" : "s"));
    return neg ? (zh ? "已超时 " : "overdue by ") + out : out;
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll(".countdown[data-due]").forEach(function (el) {
      var left = Date.parse(el.getAttribute("data-due")) - now;
      el.textContent = fmt(left);
      el.classList.toggle("overdue", left < 0);
    });
  }
  tick();
  setInterval(tick, 1000);

  // A page the API could not give just now loads itself again, waiting
  // longer after each refusal (up to a minute); any other page resets it.
  // The count is forgotten after two minutes: a page left and opened again
  // later starts from the short pause.
  var retry = document.querySelector("[data-retry]");
  var refusals = "desk.refusals:" + location.pathname + location.search;
  if (retry) {
    var seen = (sessionStorage.getItem(refusals) || "0 0").split(" ");
    var n = Date.now() - parseInt(seen[1], 10) < 120000 ? parseInt(seen[0], 10) || 0 : 0;
    sessionStorage.setItem(refusals, (n + 1) + " " + Date.now());
    var wait = Math.min(60000, (parseInt(retry.getAttribute("data-retry"), 10) || 5000) * Math.pow(2, Math.min(n, 4)));
    setTimeout(function () { location.reload(); }, wait);
    return;
  }
  sessionStorage.removeItem(refusals);

  if (!document.getElementById("case")) return;
  // A form being filled in, or one the desk gave back with its errors or
  // to send again, is never thrown away by a refresh.
  var dirty;
  function formsInHand() {
    return !!document.querySelector("[data-form-error], details.task[open]");
  }
  dirty = formsInHand();
  document.addEventListener("input", function () { dirty = true; });
  function casePath() {
    return "/desk/cases/" + encodeURIComponent(document.getElementById("case").getAttribute("data-reference"));
  }
  var failures = 0;
  function every() {
    var c = document.getElementById("case");
    var base = parseInt(c && c.getAttribute("data-poll"), 10) || 5000;
    return Math.min(60000, base * Math.pow(2, Math.min(failures, 4)));
  }
  function later(failed) {
    failures = failed ? failures + 1 : 0;
    var stale = document.getElementById("stale");
    if (stale) stale.hidden = failures < 2;
    setTimeout(poll, every());
  }
  // The changed case replaces the page's content only once the desk has
  // given all of it: a busy moment keeps the page as it was, and says so
  // if it lasts.
  function refresh(path) {
    return fetch(path, { credentials: "same-origin", redirect: "manual", headers: { "Accept": "text/html" } })
      .then(function (r) {
        // Sent to sign in: the browser goes there itself (to the case's
        // own address, never again to a form's).
        if (r.type === "opaqueredirect") { location.replace(path); return undefined; }
        if (r.status >= 500) return null;
        return r.text();
      })
      .then(function (html) {
        if (html === undefined) return;
        if (html === null) return later(true);
        var doc = new DOMParser().parseFromString(html, "text/html");
        var main = doc.getElementById("main");
        if (!main) return later(true);
        document.getElementById("main").replaceWith(main);
        document.title = doc.title;
        history.replaceState(null, "", path);
        tick();
        if (!document.getElementById("case")) return;
        dirty = formsInHand();
        later(!!document.getElementById("tasks-unavailable"));
      });
  }
  function poll() {
    var c = document.getElementById("case");
    var path = casePath();
    fetch(path + "/version", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) {
        // Signed out (the session ended or timed out): the page goes to
        // the sign-in, unless it holds a form being filled in.
        if (r.status === 401) { if (!dirty) location.replace(path); return undefined; }
        // No longer the person's to see: the page says so.
        if (r.status === 404) return refresh(path).then(function () { return undefined; });
        return r.ok ? r.json() : null;
      })
      .then(function (v) {
        if (v === undefined) return;
        if (!v) return later(true);
        if (v.version === c.getAttribute("data-version")) return later(false);
        // A form being filled in is never thrown away: the page says so instead.
        if (dirty) { document.getElementById("changed").hidden = false; return later(false); }
        return refresh(path);
      })
      .catch(function () { later(true); });
  }
  setTimeout(poll, every());
})();
