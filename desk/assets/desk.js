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

  var c = document.getElementById("case");
  if (!c) return;
  var dirty = false;
  document.addEventListener("input", function () { dirty = true; });
  var every = parseInt(c.getAttribute("data-poll"), 10) || 5000;
  function poll() {
    fetch("/desk/cases/" + encodeURIComponent(c.getAttribute("data-reference")) + "/version",
      { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (v) {
        if (v && v.version !== c.getAttribute("data-version")) {
          // A form being filled in is never thrown away: the page says so instead.
          if (dirty) { document.getElementById("changed").hidden = false; }
          else { window.location.replace("/desk/cases/" + encodeURIComponent(c.getAttribute("data-reference"))); }
          return;
        }
        setTimeout(poll, every);
      })
      .catch(function () { setTimeout(poll, every * 2); });
  }
  setTimeout(poll, every);
})();
