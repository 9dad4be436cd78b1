// A one-line text summary of every chart, for screen readers: its title, its span and the
// latest value of each series shown (the chart's container gets it as its label).
(function () {
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
    holder.setAttribute("role", "figure");
    holder.setAttribute("aria-label", summary(gd));
  }
  function watch(gd) {
    if (gd.__summarised || !gd.on) return;
    gd.__summarised = true;
    gd.on("plotly_afterplot", function () { describe(gd); });
    describe(gd);
  }
  new MutationObserver(function () {
    document.querySelectorAll(".js-plotly-plot").forEach(watch);
  }).observe(document.documentElement, { childList: true, subtree: true });
})();

// Dash's date picker and dropdown render a few attributes that screen readers misread (axe's
// rules): a popup trigger without a role, a hidden input in the tab order, a link named without
// a role. Mended in place until the components do it themselves.
(function () {
  function mend() {
    document.querySelectorAll(".dash-datepicker-input-wrapper[aria-expanded]:not([role])")
      .forEach(function (el) { el.setAttribute("role", "combobox"); });
    document.querySelectorAll(".dash-dropdown-focus-target[aria-hidden='true']")
      .forEach(function (el) { el.setAttribute("tabindex", "-1"); });
    document.querySelectorAll("a.dash-datepicker-clear:not([role])")
      .forEach(function (el) { el.setAttribute("role", "button"); });
    // dbc.Tabs names its panes "...-tabpane-null": point each tab at its own pane.
    var tabs = document.querySelectorAll("[role='tab'][aria-controls$='-null']");
    var panes = document.querySelectorAll(".tab-content > .tab-pane");
    tabs.forEach(function (tab, index) {
      var pane = panes[index];
      if (!pane) return;
      pane.id = "view-pane-" + index;
      pane.setAttribute("aria-labelledby", tab.id = "view-tab-" + index);
      tab.setAttribute("aria-controls", pane.id);
    });
  }
  new MutationObserver(mend).observe(document.documentElement, { childList: true, subtree: true });
})();
