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
