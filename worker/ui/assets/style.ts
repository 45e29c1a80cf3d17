/**
 * The UI's stylesheet, served by Berth itself (/ui/assets/, CSP `style-src 'self'`: no inline
 * styles anywhere). Plain CSS, system fonts, readable on a phone: one column, tables scroll
 * sideways inside their own box. Colours keep WCAG AA contrast (checked by axe in the tests).
 */
export const UI_STYLE = `
*,*::before,*::after{box-sizing:border-box}
html{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.5;color:#1b1b1f;background:#fff;-webkit-text-size-adjust:100%}
body{margin:0}
a{color:#0b57d0}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible{outline:3px solid #f9a825;outline-offset:2px}
.skip{position:absolute;left:-999px;top:0;background:#fff;padding:.5rem}
.skip:focus{left:.5rem}
.vh{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
header.top{background:#102a43;color:#fff;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem 1.25rem;align-items:center}
header.top a{color:#fff}
header.top .brand{font-weight:700;font-size:1.15rem;text-decoration:none}
header.top nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1rem}
header.top nav a[aria-current="page"]{font-weight:700;text-decoration-thickness:3px}
header.top .who{margin-left:auto;display:flex;gap:.75rem;align-items:center;flex-wrap:wrap}
header.top .who form{margin:0}
main{max-width:72rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;margin:.5rem 0 1rem;word-break:break-word}
h1.mono{font-size:1.35rem}
h2.mono{font-size:1.1rem}
time{white-space:nowrap}
h2{font-size:1.2rem;margin:1.75rem 0 .5rem}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.875rem}
.mono{word-break:break-all}
pre{background:#f3f4f6;padding:.75rem;overflow:auto;max-height:32rem;border-radius:4px}
.table-wrap{overflow-x:auto;border:1px solid #d0d4da;border-radius:4px}
table{border-collapse:collapse;width:100%;font-size:.925rem}
th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #e3e6ea;vertical-align:top}
th{background:#f3f4f6;white-space:nowrap}
td.num{text-align:right;white-space:nowrap}
tr:last-child td{border-bottom:0}
dl.facts{display:grid;grid-template-columns:minmax(7rem,max-content) 1fr;gap:.25rem 1rem;margin:0}
dl.facts dt{font-weight:600}
dl.facts dd{margin:0;word-break:break-word}
.muted{color:#4a5160}
.notice{padding:.6rem .8rem;border-radius:4px;margin:0 0 1rem;border:1px solid}
.notice.info{background:#e8f0fe;border-color:#8ab4f8}
.notice.ok{background:#e6f4ea;border-color:#81c995}
.notice.error{background:#fce8e6;border-color:#f28b82}
.notice.warn{background:#fef7e0;border-color:#fdd663}
form.stack{display:grid;gap:.75rem;max-width:32rem}
form.stack label,fieldset label{display:grid;gap:.25rem;font-weight:600}
form.inline{display:inline}
fieldset{border:1px solid #d0d4da;border-radius:4px;padding:.75rem}
label.check,form.stack label.check{display:flex;gap:.5rem;align-items:center;font-weight:400}
input[type=text],input[type=password],input[type=search],select,textarea{font:inherit;padding:.45rem .55rem;border:1px solid #6b7280;border-radius:4px;width:100%;max-width:100%;background:#fff;color:inherit}
textarea{min-height:5rem;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.875rem}
button,.button{font:inherit;padding:.45rem .9rem;border-radius:4px;border:1px solid #0b57d0;background:#0b57d0;color:#fff;cursor:pointer;text-decoration:none;display:inline-block;line-height:1.3}
button.secondary,.button.secondary{background:#fff;color:#0b57d0}
button.danger{background:#b3261e;border-color:#b3261e}
button.small{padding:.2rem .55rem;font-size:.875rem}
header.top button{background:transparent;border-color:#fff}
.search{display:flex;gap:.5rem;margin:0 0 1rem;max-width:36rem}
.copy{display:flex;gap:.5rem;align-items:stretch;margin:.25rem 0 1rem;max-width:48rem}
.copy .copied{align-self:center;color:#137333;font-weight:600}
.copy input{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.875rem}
.actions{display:flex;gap:.75rem;flex-wrap:wrap;align-items:center;margin:1rem 0}
ul.plain{list-style:none;padding:0;margin:0}
ul.repos li{padding:.35rem 0;border-bottom:1px solid #e3e6ea;word-break:break-word}
nav.platforms ul{list-style:none;padding:0;margin:0 0 1rem;display:flex;flex-wrap:wrap;gap:.5rem}
nav.platforms a{display:inline-block;padding:.3rem .7rem;border:1px solid #0b57d0;border-radius:999px;text-decoration:none}
nav.platforms a[aria-current="true"]{background:#0b57d0;color:#fff}
.pager{margin:1rem 0}
.js-only{display:none}
.js .js-only{display:inline-block}
[hidden]{display:none!important}
@media (max-width:40rem){main{padding:.75rem}h1{font-size:1.3rem}header.top .who{margin-left:0}dl.facts{grid-template-columns:1fr}dl.facts dd{margin-bottom:.4rem}}
`;
