/*
 * assets.c: the stylesheet and the small scripts of the pages, served from
 * the binary (GET /assets/{name}).  The pages work without the scripts:
 * they only add what forms cannot do (telling a framing page that the
 * connection is made, sending the browser on at once, a busy submit
 * button).
 */
#include "web/web.h"

#include <string.h>

#include "http/http.h"

static const char css[] =
"*{box-sizing:border-box}\n"
"html{font:16px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;"
"color:#1a1a1a;background:#f3f4f6}\n"
"body{margin:0}\n"
"main{max-width:34rem;margin:2rem auto;background:#fff;padding:1.5rem 1.75rem;"
"border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.15)}\n"
"main:has(> .wide){max-width:76rem}\n"
"h1{font-size:1.5rem;margin:0 0 1rem}\n"
"h2{font-size:1.2rem;margin:1.5rem 0 .5rem}\n"
"p.step{color:#4b5563;margin:0 0 .25rem;font-size:.9rem}\n"
"label{display:block;font-weight:600;margin:.75rem 0 .25rem}\n"
"input[type=text],input[type=password],input[type=search],select{width:100%;"
"padding:.6rem .7rem;font:inherit;border:1px solid #6b7280;border-radius:6px}\n"
"fieldset{border:1px solid #d1d5db;border-radius:6px;margin:.75rem 0;padding:.5rem .9rem}\n"
"legend{font-weight:600;padding:0 .25rem}\n"
"fieldset label{display:flex;gap:.5rem;align-items:center;font-weight:400;margin:.35rem 0}\n"
"button,.button{display:inline-block;font:inherit;font-weight:600;padding:.6rem 1.1rem;"
"margin:.75rem .5rem 0 0;border-radius:6px;border:2px solid #1d4ed8;background:#1d4ed8;"
"color:#fff;cursor:pointer;text-decoration:none}\n"
"button.secondary,.button.secondary{background:#fff;color:#1d4ed8}\n"
"button:disabled{opacity:.6;cursor:wait}\n"
":focus-visible{outline:3px solid #f59e0b;outline-offset:2px}\n"
"ul.banks{list-style:none;padding:0;margin:.5rem 0}\n"
"ul.banks li{margin:0}\n"
"ul.banks button{width:100%;text-align:left;margin:.3rem 0;background:#fff;color:#111827;"
"border:1px solid #9ca3af}\n"
"ul.banks button:hover{border-color:#1d4ed8}\n"
"ul.banks .note{color:#4b5563;font-weight:400}\n"
".search{display:flex;gap:.5rem;align-items:flex-end}\n"
".search div{flex:1}\n"
".search button{margin:0}\n"
".alert{border-left:4px solid #b91c1c;background:#fef2f2;padding:.75rem 1rem;margin:0 0 1rem}\n"
".alert p{margin:.25rem 0}\n"
".ok{border-left:4px solid #15803d;background:#f0fdf4;padding:.75rem 1rem}\n"
".muted{color:#4b5563;font-size:.9rem}\n"
".lang{display:flex;gap:.5rem;align-items:flex-end;justify-content:flex-end;margin-top:1.5rem}\n"
".lang label{margin:0;font-weight:400}\n"
".lang select{width:auto}\n"
".lang button{margin:0;padding:.3rem .7rem}\n"
"table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.5rem 0}\n"
"th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e5e7eb;vertical-align:top}\n"
"td{overflow-wrap:anywhere}\n"
"th{background:#f9fafb}\n"
"td form{display:inline}\n"
"td button{margin:0;padding:.2rem .6rem;font-size:.85rem}\n"
".status-bad{color:#b91c1c;font-weight:600}\n"
".status-good{color:#15803d;font-weight:600}\n"
".status-wait{color:#92400e;font-weight:600}\n"
"code{font-size:.85rem}\n"
"svg{max-width:100%;height:auto}\n"
"nav.top{display:flex;justify-content:space-between;align-items:center}\n"
"nav.top form button{margin:0}\n";

static const char connect_js[] =
"'use strict';\n"
"// Progressive enhancement of the Connect page: forms work without it.\n"
"document.addEventListener('DOMContentLoaded', function () {\n"
"  document.querySelectorAll('form').forEach(function (f) {\n"
"    f.addEventListener('submit', function () {\n"
"      f.querySelectorAll('button').forEach(function (b) {\n"
"        setTimeout(function () { b.disabled = true; }, 0);\n"
"      });\n"
"    });\n"
"  });\n"
"  var poll = document.querySelector('[data-poll]');\n"
"  if (poll) {\n"
"    // A confirmation in the bank's app: ask the page (which asks the bank)\n"
"    // until it shows another step, then show that one.\n"
"    var every = 1000 * Number(poll.getAttribute('data-poll'));\n"
"    var ask = function () {\n"
"      fetch(window.location.pathname, { credentials: 'same-origin' })\n"
"        .then(function (r) { return r.text(); })\n"
"        .then(function (t) {\n"
"          if (t.indexOf('data-poll=') < 0) window.location.reload();\n"
"          else setTimeout(ask, every);\n"
"        }, function () { setTimeout(ask, every); });\n"
"    };\n"
"    setTimeout(ask, every);\n"
"  }\n"
"  var done = document.getElementById('done');\n"
"  if (!done) return;\n"
"  var id = done.getAttribute('data-connection-id');\n"
"  var back = done.getAttribute('data-redirect');\n"
"  var origin = done.getAttribute('data-origin');\n"
"  if (window.parent !== window) {\n"
"    window.parent.postMessage({ type: 'bankfeed.connect', status: 'success',\n"
"      connection_id: id }, origin || '*');\n"
"  } else if (back) {\n"
"    setTimeout(function () { window.location.assign(back); }, 1500);\n"
"  }\n"
"});\n";

static const struct {
	const char	*name;
	const char	*type;
	const char	*body;
	size_t		 len;
} assets[] = {
	{ "web.css", "text/css; charset=utf-8", css, sizeof(css) - 1 },
	{ "connect.js", "text/javascript; charset=utf-8", connect_js,
	    sizeof(connect_js) - 1 },
};

void
h_web_asset(struct req *r)
{
	const char	*name = req_param(r, 0);
	size_t		 i;

	for (i = 0; i < sizeof(assets) / sizeof(assets[0]); i++)
		if (strcmp(assets[i].name, name) == 0) {
			resp_text(r, 200, assets[i].type, assets[i].body,
			    assets[i].len);
			resp_header(r, "X-Content-Type-Options", "nosniff");
			return;
		}
	resp_error(r, ERR_ENTITY_NOT_FOUND, NULL, NULL);
}
