// Clientside gates in front of the server's panel callbacks (callbacks/view_state.py).
// Drawing a panel costs the server far more than reading cached queries, and a request the
// browser does not send costs nothing: a panel asks to be drawn only while its tab is open and
// only when its view differs from the one it drew last (so going back to a tab is free).
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  panels: {
    // Inputs: the panel's controls, then the active tab. State: the request it made last.
    request: function () {
      var values = Array.prototype.slice.call(arguments);
      var last = values.pop();
      var activeTab = values.pop();
      var tab = window.dash_clientside.callback_context.outputs_list.id.tab;
      var view = JSON.stringify(values);
      if (activeTab !== tab || (last && last.view === view)) {
        return window.dash_clientside.no_update;
      }
      return { view: view };
    },

    // As request, for a panel below the fold: the input before the active tab is whether the
    // panel is on screen, and nothing is asked while it is not.
    requestWhenShown: function () {
      var values = Array.prototype.slice.call(arguments);
      var last = values.pop();
      var activeTab = values.pop();
      var shown = values.pop();
      var tab = window.dash_clientside.callback_context.outputs_list.id.tab;
      var view = JSON.stringify(values);
      if (!shown || activeTab !== tab || (last && last.view === view)) {
        return window.dash_clientside.no_update;
      }
      return { view: view };
    },

    // Inputs: a view's figures, whether their charts are on screen. Draws the figures while
    // the charts are shown and only once per view (Dash hands over the same object).
    drawWhenShown: function (figures, shown) {
      var outputs = window.dash_clientside.callback_context.outputs_list;
      var charts = JSON.stringify((Array.isArray(outputs) ? outputs[0] : outputs).id);
      if (!figures || !shown || drawnFigures.get(charts) === figures) {
        throw window.dash_clientside.PreventUpdate;
      }
      drawnFigures.set(charts, figures);
      return figures;
    },

    // Inputs: whether the card is open, the active tab, then each panel's first output (set
    // whenever the panel answers). The diagnostics are read only while the card is open.
    diagnostics: function (isOpen, activeTab) {
      if (!isOpen) {
        return window.dash_clientside.no_update;
      }
      return { tab: activeTab, at: Date.now() };
    },
  },
});

// The figures each chart (or group of charts) drew last, by its first output's id.
var drawnFigures = new Map();

// Boxes marked data-shown-store (layouts/growth.py drawn_when_shown) set that store to whether
// a tenth of them is on screen: a box whose top edge peeks above the fold waits for a scroll.
var SHOWN_RATIO = 0.1;
var shownBoxes = new IntersectionObserver(function (entries) {
  entries.forEach(function (entry) {
    window.dash_clientside.set_props(entry.target.dataset.shownStore, {
      data: entry.isIntersecting && entry.intersectionRatio >= SHOWN_RATIO,
    });
  });
}, { threshold: [0, SHOWN_RATIO] });

new MutationObserver(function () {
  document.querySelectorAll("[data-shown-store]:not([data-shown-watched])").forEach(function (box) {
    box.setAttribute("data-shown-watched", "");
    shownBoxes.observe(box);
  });
}).observe(document.documentElement, { childList: true, subtree: true });
