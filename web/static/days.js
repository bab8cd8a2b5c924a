// The chosen day's tab in sight. On a phone the strip of days scrolls sideways, and a later
// day, once chosen, came back sitting half off the screen's edge. The page works without
// this script; it only scrolls the strip, never the page.
(function () {
  "use strict";
  var strip = document.querySelector(".days ul");
  var tab = strip && strip.querySelector(".day-tab.current");
  if (!tab) { return; }
  var box = strip.getBoundingClientRect();
  var at = tab.getBoundingClientRect();
  if (at.left >= box.left && at.right <= box.right) { return; }
  // Centred where the strip allows: the days either side of it stay in sight too.
  strip.scrollLeft += at.left - box.left - (box.width - at.width) / 2;
})();
