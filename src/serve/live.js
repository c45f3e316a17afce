// blameless serve: live reload. Served by `blameless serve` only (never part of a
// built site) and added to every page it serves. Listens to the server's events and
// reloads the page when it changed, keeping the scroll position across the reload.
(function () {
  "use strict";
  var script = document.currentScript;
  var loaded = script ? new URL(script.src).searchParams.get("g") : null;
  var key = "blameless-serve-scroll:" + location.pathname + location.search;
  var saved = null;
  try {
    saved = sessionStorage.getItem(key);
    sessionStorage.removeItem(key);
  } catch (e) { /* storage disabled: reload to the top */ }
  if (saved) {
    var xy = saved.split(",").map(Number);
    var restore = function () { window.scrollTo(xy[0] || 0, xy[1] || 0); };
    if (document.readyState === "complete") restore();
    else window.addEventListener("load", restore);
  }
  document.documentElement.setAttribute("data-blameless-live", "");

  // The error overlay (added by the server while the content has errors) never takes
  // focus; Escape, its Dismiss button or a click beside it hide it until the next
  // reload, as Vite's does, so the last good page stays readable meanwhile.
  function overlay() {
    var shade = document.getElementById("blameless-overlay");
    if (!shade) return;
    function dismiss() {
      shade.hidden = true;
      document.removeEventListener("keydown", onKey);
    }
    function onKey(e) {
      if (e.key === "Escape" && !e.defaultPrevented) dismiss();
    }
    var close = document.createElement("button");
    close.type = "button";
    close.className = "blameless-overlay-close";
    close.textContent = "Dismiss (Esc)";
    close.addEventListener("click", dismiss);
    var box = shade.querySelector(".blameless-overlay-box");
    (box || shade).insertBefore(close, (box || shade).firstChild);
    shade.addEventListener("click", function (e) {
      if (e.target === shade) dismiss();
    });
    document.addEventListener("keydown", onKey);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", overlay);
  else overlay();

  function reload() {
    try {
      sessionStorage.setItem(key, window.scrollX + "," + window.scrollY);
    } catch (e) { /* ignore */ }
    location.reload();
  }

  // The server renders the pages open in a browser first after a change, and says
  // on (re)connection whether this page changed since the generation it was served
  // in (a change published in between); other pages' changes do not count.
  var query = "?page=" + encodeURIComponent(location.pathname);
  if (loaded !== null) query += "&g=" + encodeURIComponent(loaded);
  var events = new EventSource("/__blameless/live" + query);
  events.addEventListener("hello", function (e) {
    if (e.data === "stale") reload();
  });
  events.addEventListener("reload", function (e) {
    loaded = null;
    var changed = JSON.parse(e.data);
    if (changed === "*" || changed.indexOf(location.pathname) !== -1) reload();
  });
})();
