// Loaded in the page's <head> (app/factory.py), before anything is drawn: the page starts in
// the remembered theme, else the system's (prefers-color-scheme), without a flash of light.
(function () {
  if (window.growthTheme) return;
  var KEY = "growth-theme";
  var media = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function remembered() {
    try { return window.localStorage.getItem(KEY); } catch (e) { return null; }
  }
  function current() {
    return remembered() || (media && media.matches ? "dark" : "light");
  }
  function apply(theme) {
    document.documentElement.setAttribute("data-bs-theme", theme);
    var toggle = document.getElementById("theme-toggle");
    if (toggle) toggle.setAttribute("aria-pressed", theme === "dark" ? "true" : "false");
  }
  apply(current());
  if (media && media.addEventListener) {
    media.addEventListener("change", function () { if (!remembered()) apply(current()); });
  }
  document.addEventListener("click", function (event) {
    var theme = event.target.closest && event.target.closest("#theme-toggle");
    if (theme) {
      var next = current() === "dark" ? "light" : "dark";
      try { window.localStorage.setItem(KEY, next); } catch (e) { /* private mode */ }
      apply(next);
    }
    // On a phone the segment filters fold behind "More filters" (assets/style.css).
    var more = event.target.closest && event.target.closest("#filter-bar-toggle");
    if (more) {
      var row = document.getElementById("filter-bar-row");
      var open = row.classList.toggle("filters-open");
      more.setAttribute("aria-expanded", open ? "true" : "false");
      more.textContent = open ? "Fewer filters" : "More filters";
    }
  });
  // The toggle is drawn after this runs: give it its state once it is there.
  document.addEventListener("DOMContentLoaded", function () { apply(current()); });
  new MutationObserver(function (changes, observer) {
    if (document.getElementById("theme-toggle")) { apply(current()); observer.disconnect(); }
  }).observe(document.documentElement, { childList: true, subtree: true });
  window.growthTheme = { current: current, apply: apply };
})();
