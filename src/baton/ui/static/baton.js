// Baton's pages work without this script; it adds local times, "select all", confirmations
// and live regions: elements with data-live="URL" are refreshed from that URL (the same
// partial the page rendered) and stop when the server says so. Each poll sends the ETag
// of the copy it has; an unchanged region answers 304 with no body. A hidden tab does not
// poll at all: it asks once when it is shown again. A region the user is working in (focus
// inside it) waits until they leave it, and ticked boxes stay ticked across updates.
(function () {
  "use strict";

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function localize(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      if (el.dataset.local) { return; }
      var at = new Date(el.getAttribute("datetime"));
      if (isNaN(at.getTime())) { return; }
      el.title = el.getAttribute("datetime");
      el.textContent = at.getFullYear() + "-" + pad(at.getMonth() + 1) + "-" + pad(at.getDate()) +
        " " + pad(at.getHours()) + ":" + pad(at.getMinutes()) + ":" + pad(at.getSeconds());
      el.dataset.local = "1";
    });
  }

  function wireSelectAll(root) {
    root.querySelectorAll("input[data-select-all]").forEach(function (box) {
      if (box.dataset.selectAllWired) { return; }
      box.dataset.selectAllWired = "1";
      box.addEventListener("change", function () {
        var form = box.form || box.closest("form");
        if (!form) { return; }
        form.querySelectorAll('input[type=checkbox][name="' + box.dataset.selectAll + '"]')
          .forEach(function (other) { other.checked = box.checked; });
      });
    });
  }

  function wireConfirm(root) {
    root.querySelectorAll("[data-confirm]").forEach(function (el) {
      if (el.dataset.confirmWired) { return; }
      el.dataset.confirmWired = "1";
      el.addEventListener("click", function (event) {
        if (!window.confirm(el.dataset.confirm)) { event.preventDefault(); }
      });
    });
  }

  // Live log rows kept on a run page: older ones leave the top ("Download logs" has all).
  var MAX_APPENDED_ROWS = 2000;

  function ticked(el) {
    var out = {};
    el.querySelectorAll("input[type=checkbox]:checked").forEach(function (box) {
      out[box.name + "=" + box.value] = true;
    });
    return out;
  }

  function retick(el, before) {
    el.querySelectorAll("input[type=checkbox]").forEach(function (box) {
      if (before[box.name + "=" + box.value]) { box.checked = true; }
    });
  }

  function live(el) {
    var url = el.dataset.live;
    var append = el.dataset.liveMode === "append";
    var every = parseInt(el.dataset.liveEvery || "2000", 10);
    var etag = null;
    var busy = false;
    var timer = null;
    var stopped = false;

    function target() {
      if (!append) { return url; }
      var rows = el.querySelectorAll("[data-cursor]");
      var cursor = rows.length ? rows[rows.length - 1].dataset.cursor : (el.dataset.liveAfter || "");
      if (!cursor) { return url; }
      return url + (url.indexOf("?") >= 0 ? "&" : "?") + "after=" + encodeURIComponent(cursor);
    }

    function schedule() {
      if (stopped || document.hidden) { return; }  // shown again: onVisible asks at once
      window.clearTimeout(timer);
      timer = window.setTimeout(tick, every);
    }

    function replace(html) {
      var before = ticked(el);
      el.innerHTML = html;
      retick(el, before);
      wireConfirm(el);
      wireSelectAll(el);
    }

    function tick() {
      timer = null;
      if (stopped || busy) { return; }
      if (document.hidden) { return; }
      if (!append && el.contains(document.activeElement)) { schedule(); return; }
      busy = true;
      var headers = { "Accept": "text/html" };
      if (etag && !append) { headers["If-None-Match"] = etag; }
      fetch(target(), { headers: headers, cache: "no-store", credentials: "same-origin" })
        .then(function (response) {
          var done = response.headers.get("X-Baton-Live") === "done";
          if (response.status === 304) { return done; }
          // Signed out (the session ended): reloading leads to the sign-in page and back.
          if (response.status === 401) { window.location.reload(); return true; }
          if (!response.ok) { return false; }
          etag = response.headers.get("ETag");
          return response.text().then(function (html) {
            if (append) {
              if (html.trim()) {
                var empty = el.querySelector("[data-empty]");
                if (empty) { empty.remove(); }
                el.insertAdjacentHTML("beforeend", html);
                // Only rows stay: the text between them would outlive the rows dropped below.
                for (var node = el.firstChild; node; ) {
                  var next = node.nextSibling;
                  if (node.nodeType === 3 && !node.nodeValue.trim()) { el.removeChild(node); }
                  node = next;
                }
                var rows = el.querySelectorAll("[data-cursor]");
                for (var i = 0; i < rows.length - MAX_APPENDED_ROWS; i++) { rows[i].remove(); }
              }
            } else {
              replace(html);
            }
            localize(el);
            return done;
          });
        })
        .catch(function () { return false; })
        .then(function (done) {
          busy = false;
          if (done) {
            stopped = true;
            el.removeAttribute("data-live");
            var marker = document.querySelector("[data-live-marker]");
            if (marker && !document.querySelector("[data-live]")) { marker.hidden = true; }
          } else {
            schedule();
          }
        });
    }

    document.addEventListener("visibilitychange", function () {
      if (!document.hidden && !stopped && !busy && timer === null) { tick(); }
    });
    schedule();
  }

  // Back and forward restore a page with its filter forms as last edited, not as its URL
  // says: put them back to what the server rendered for that URL.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[method=get]").forEach(function (form) { form.reset(); });
  });

  document.addEventListener("DOMContentLoaded", function () {
    localize(document);
    wireSelectAll(document);
    wireConfirm(document);
    document.querySelectorAll("[data-live]").forEach(live);
  });
})();
