// AG Grid callbacks referenced by name from Python (dash-ag-grid's {"function": ...} props).
var dagfuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});

// A spreadsheet runs a text cell starting with = + - @ (or a tab / carriage return) as a
// formula: prefix such text with an apostrophe so the exported CSV stays inert. Numbers are
// left alone, so negative values keep their sign.
dagfuncs.neutraliseFormula = function (params) {
  var value = params.value;
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(value)) {
    return "'" + value;
  }
  return value;
};

// Seconds as a reader says them: "42 s", "5 min 42 s", "3 h 5 min", "2 d 4 h"; the same
// words as queries/metrics.py:format_duration.
dagfuncs.formatDuration = function (seconds) {
  var total = Math.round(seconds);
  var days = Math.floor(total / 86400), hours = Math.floor((total % 86400) / 3600);
  var minutes = Math.floor((total % 3600) / 60), secs = total % 60;
  if (days) return days.toLocaleString("en-US") + " d" + (hours ? " " + hours + " h" : "");
  if (hours) return hours + " h" + (minutes ? " " + minutes + " min" : "");
  if (minutes) return minutes + " min" + (secs ? " " + secs + " s" : "");
  return secs + " s";
};

// The deployment's currency, written by the server into <html data-currency> (app/factory.py).
dagfuncs.currencyPrefix = function () {
  return document.documentElement.getAttribute("data-currency") || "";
};
