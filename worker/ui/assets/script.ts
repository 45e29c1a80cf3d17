/**
 * The UI's only script, served by Berth itself (/ui/assets/, CSP `script-src 'self'`: nothing
 * inline, no other host). Every page works without it; it adds:
 * - copy buttons (`data-copy` names the element whose value or text is copied);
 * - live filtering of a list while typing (`data-filter` on the input names the list);
 * - a confirmation for forms (or submit buttons) marked `data-confirm`;
 * - session renewal: while a page stays open, it asks `/ui/session` now and then, which renews
 *   the short-lived session cookie before it runs out.
 * Plain ES2017 for any current browser; no build step.
 */
export const UI_SCRIPT = `(function () {
  'use strict';
  document.documentElement.classList.add('js');

  function copyText(text, button) {
    var done = function () {
      var status = button.nextElementSibling;
      if (!status) return;
      status.textContent = 'Copied';
      setTimeout(function () { status.textContent = ''; }, 2000);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text); done(); });
    } else {
      fallbackCopy(text);
      done();
    }
  }

  function fallbackCopy(text) {
    var area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'vh';
    document.body.appendChild(area);
    area.select();
    try { document.execCommand('copy'); } catch (e) { /* nothing more to try */ }
    document.body.removeChild(area);
  }

  document.addEventListener('click', function (event) {
    var button = event.target.closest && event.target.closest('button[data-copy]');
    if (!button) return;
    var source = document.getElementById(button.getAttribute('data-copy'));
    if (!source) return;
    event.preventDefault();
    copyText(source.value !== undefined ? source.value : source.textContent, button);
  });

  document.addEventListener('submit', function (event) {
    var form = event.target;
    var button = event.submitter;
    var message = (button && button.getAttribute('data-confirm')) || (form.getAttribute && form.getAttribute('data-confirm'));
    if (message && !window.confirm(message)) event.preventDefault();
  });

  Array.prototype.forEach.call(document.querySelectorAll('input[data-filter]'), function (input) {
    var list = document.getElementById(input.getAttribute('data-filter'));
    if (!list) return;
    input.addEventListener('input', function () {
      var wanted = input.value.trim().toLowerCase();
      Array.prototype.forEach.call(list.querySelectorAll('[data-name]'), function (item) {
        item.hidden = wanted !== '' && item.getAttribute('data-name').indexOf(wanted) < 0;
      });
    });
  });

  var renew = document.body.getAttribute('data-renew');
  if (renew) {
    setInterval(function () {
      if (document.visibilityState !== 'visible') return;
      fetch(renew, { credentials: 'same-origin', cache: 'no-store' }).catch(function () {});
    }, 4 * 60 * 1000);
  }
})();
`;
