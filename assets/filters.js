// The filter bar's inline message, in the browser: the same checks and words as
// callbacks/view_state.py's view_from_filter_bar (tests/test_browser.py compares the two).
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  filters: {
    // The clicked quick range's [start, end], from the page's table of them.
    quickRange: function (clicks, dates) {
      var clicked = window.dash_clientside.callback_context.triggered_id;
      if (!clicked || !(clicks || []).some(Boolean) || !dates) {
        return [window.dash_clientside.no_update, window.dash_clientside.no_update];
      }
      return dates[String(clicked.days)];
    },

    dateMessage: function (start, end) {
      var problem = dateProblem(start, "Start") || dateProblem(end, "End");
      if (!problem && start && end && start.slice(0, 10) > end.slice(0, 10)) {
        problem = "The start date (" + dayText(start) + ") is after the end date (" +
          dayText(end) + "): pick a start on or before the end.";
      }
      // While the range cannot be drawn, the views keep their last drawing, marked stale.
      document.body.classList.toggle("view-stale", Boolean(problem));
      if (!problem) {
        return null;
      }
      return {
        namespace: "dash_bootstrap_components",
        type: "Alert",
        props: { children: problem, color: "warning", className: "py-2 mb-0" },
      };
    },
  },
});

var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function dateProblem(value, label) {
  if (!value || /^\d{4}-\d{2}-\d{2}/.test(value) && !isNaN(Date.parse(value.slice(0, 10)))) {
    return null;
  }
  return label + " date '" + value + "' is not a date (YYYY-MM-DD)";
}

// "2025-03-01" as Python's "%d %b %Y": "01 Mar 2025".
function dayText(value) {
  var parts = value.slice(0, 10).split("-");
  return parts[2] + " " + MONTHS[Number(parts[1]) - 1] + " " + parts[0];
}
