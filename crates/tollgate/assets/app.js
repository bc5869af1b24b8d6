// Tollgate dashboard: progressive enhancement only; every page works without this file.
// Relative times, the cluster select submitting on change, a client-side table filter, and an
// auto-refresh toggle remembered per browser. No framework and no requests of its own.
(function () {
  'use strict';
  document.documentElement.classList.add('js');

  function relative(ms) {
    var future = ms < 0;
    var s = Math.round(Math.abs(ms) / 1000);
    var text;
    if (s < 45) text = s + ' s';
    else if (s < 45 * 60) text = Math.round(s / 60) + ' min';
    else if (s < 36 * 3600) text = Math.round(s / 3600) + ' h';
    else text = Math.round(s / 86400) + ' days';
    return future ? 'in ' + text : text + ' ago';
  }

  // The absolute time stays in the tooltip.
  function updateTimes() {
    var now = Date.now();
    document.querySelectorAll('time[datetime]').forEach(function (el) {
      var at = Date.parse(el.getAttribute('datetime'));
      if (isNaN(at)) return;
      if (!el.hasAttribute('data-absolute')) {
        el.setAttribute('data-absolute', el.textContent);
        el.title = el.textContent;
      }
      el.textContent = relative(now - at);
    });
  }

  document.querySelectorAll('select[data-autosubmit]').forEach(function (select) {
    select.addEventListener('change', function () {
      if (select.form) select.form.submit();
    });
  });

  document.querySelectorAll('input[data-filter]').forEach(function (input) {
    var label = input.closest('.table-filter');
    if (label) label.hidden = false;
    input.addEventListener('input', function () {
      var target = document.getElementById(input.getAttribute('data-filter'));
      if (!target) return;
      var needle = input.value.trim().toLowerCase();
      target.querySelectorAll('tbody tr').forEach(function (row) {
        row.hidden = needle !== '' && row.textContent.toLowerCase().indexOf(needle) === -1;
      });
    });
  });

  var KEY = 'tollgate.autorefresh';
  var toggle = document.querySelector('input[data-autorefresh]');
  if (toggle) {
    var label = toggle.closest('label');
    if (label) label.hidden = false;
    var timer = null;
    var remembered = false;
    try { remembered = window.localStorage.getItem(KEY) === 'on'; } catch (e) { /* storage off */ }
    var apply = function () {
      if (timer) { window.clearInterval(timer); timer = null; }
      if (toggle.checked) {
        timer = window.setInterval(function () { window.location.reload(); }, 30000);
      }
    };
    toggle.checked = remembered;
    toggle.addEventListener('change', function () {
      try { window.localStorage.setItem(KEY, toggle.checked ? 'on' : 'off'); } catch (e) { /* storage off */ }
      apply();
    });
    apply();
  }

  updateTimes();
  window.setInterval(updateTimes, 30000);
})();
