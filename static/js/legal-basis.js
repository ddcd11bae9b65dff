// The decision forms' legal basis lists: when the moderator changes the takedown's category,
// the bases that cover it move to the "suggested" group (the server refuses the others).
(function () {
  "use strict";
  function regroup(category, basis) {
    var suggested = basis.querySelector('[data-basis-group="suggested"]');
    var other = basis.querySelector('[data-basis-group="other"]');
    if (!suggested || !other) return;
    var options = Array.prototype.slice.call(basis.querySelectorAll("option[data-categories]"));
    options.forEach(function (option) {
      var covers = option.dataset.categories.split(" ").indexOf(category) !== -1;
      (covers ? suggested : other).appendChild(option);
      if (!covers && option.selected) basis.value = "";
    });
  }
  // The single proposal's form, and the ring card's batch of proposals (issue 17).
  var PAIRS = [["takedown-category", "takedown-basis"], ["ring-category", "ring-basis"]];
  document.addEventListener("DOMContentLoaded", function () {
    PAIRS.forEach(function (ids) {
      var category = document.getElementById(ids[0]);
      var basis = document.getElementById(ids[1]);
      if (!category || !basis) return;
      category.addEventListener("change", function () { regroup(category.value, basis); });
    });
  });
})();
