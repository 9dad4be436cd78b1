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
