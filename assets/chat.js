// The chat drawer scrolls to the newest answer when one arrives: to the start of its turn,
// so a long answer is read from its first line.
(function () {
  function follow() {
    var conversation = document.getElementById("chat-conversation");
    var scroller = document.getElementById("chat-scroll");
    if (!conversation || !scroller) return false;
    new MutationObserver(function () {
      var turns = conversation.querySelectorAll(".chat-turn");
      var newest = turns[turns.length - 1];
      if (newest) scroller.scrollTop = newest.offsetTop;  // .chat-scroll is its offsetParent
    }).observe(conversation, { childList: true });
    return true;
  }
  if (!follow()) {
    new MutationObserver(function (changes, observer) {
      if (follow()) observer.disconnect();
    }).observe(document.documentElement, { childList: true, subtree: true });
  }
})();
