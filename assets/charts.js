// Accessibility helpers. Attributes are written only when they differ; the mends of other
// components' markup run once the page is quiet (a debounced observer), off a click's path.
(function () {
  var QUIET_MS = 250;

  function set(element, name, value) {
    if (element.getAttribute(name) !== value) element.setAttribute(name, value);
  }
  function whenQuiet(work) {
    var timer = null;
    new MutationObserver(function () {
      clearTimeout(timer);
      timer = setTimeout(work, QUIET_MS);
    }).observe(document.documentElement, { childList: true, subtree: true });
  }

  // A one-line text summary of every chart, for screen readers: its title, its span and the
  // latest value of each series shown (the chart's container gets it as its label).
  function text(value) {
    return typeof value === "number" ? value.toLocaleString("en-US", { maximumFractionDigits: 3 })
      : String(value);
  }
  function summary(gd) {
    var layout = gd.layout || {};
    var title = (layout.title && layout.title.text) || "Chart";
    var parts = [];
    (gd.data || []).forEach(function (trace) {
      if (trace.visible === "legendonly" || trace.showlegend === false || !trace.name) return;
      var ys = trace.y || trace.x || [];
      for (var i = ys.length - 1; i >= 0; i--) {
        if (ys[i] != null) { parts.push(trace.name + " " + text(ys[i])); break; }
      }
    });
    var xs = ((gd.data || [])[0] || {}).x || [];
    var span = xs.length > 1 && typeof xs[0] === "string"
      ? ", " + xs.length + " points from " + xs[0] + " to " + xs[xs.length - 1] : "";
    return title + span + (parts.length ? ". Latest: " + parts.join(", ") + "." : ".");
  }
  function describe(gd) {
    var holder = gd.parentElement;
    if (!holder) return;
    // A figure, not an image: the chart keeps its buttons (an image's children are hidden).
    set(holder, "role", "figure");
    set(holder, "aria-label", summary(gd));
  }
  function watch(gd) {
    if (gd.__summarised || !gd.on) return;
    gd.__summarised = true;
    // At once: a label written later would be one more change after the chart has settled.
    gd.on("plotly_afterplot", function () { describe(gd); });
    describe(gd);
  }

  // Dash's date picker and dropdown render a few attributes that screen readers misread
  // (axe's rules): a popup trigger without a role, a hidden input in the tab order, a link
  // named without a role, and dbc.Tabs' panes named "...-tabpane-null".
  function mend() {
    document.querySelectorAll(".js-plotly-plot").forEach(watch);
    document.querySelectorAll(".dash-datepicker-input-wrapper[aria-expanded]")
      .forEach(function (el) { set(el, "role", "combobox"); });
    document.querySelectorAll(".dash-dropdown-focus-target[aria-hidden='true']")
      .forEach(function (el) { set(el, "tabindex", "-1"); });
    document.querySelectorAll("a.dash-datepicker-clear")
      .forEach(function (el) { set(el, "role", "button"); });
    var tabs = document.querySelectorAll("[role='tab'][aria-controls$='-null']");
    var panes = document.querySelectorAll(".tab-content > .tab-pane");
    tabs.forEach(function (tab, index) {
      var pane = panes[index];
      if (!pane) return;
      pane.id = "view-pane-" + index;
      tab.id = "view-tab-" + index;
      set(pane, "aria-labelledby", tab.id);
      set(tab, "aria-controls", pane.id);
    });
  }
  whenQuiet(mend);
})();
