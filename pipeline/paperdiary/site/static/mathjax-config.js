// MathJax 3, served by the site itself: math the diary wrote between $…$ (rendered as
// <span class="arithmatex">\(…\)</span>) and nothing else. SVG output needs no web fonts; the
// html and require packages are left out (no styles or extensions chosen by an entry), and the
// menu, whose accessibility tools load more code, is off: nothing is fetched after this.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
    packages: {"[-]": ["html", "require"]}
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex",
    enableMenu: false
  },
  loader: {load: []},
  startup: {typeset: true}
};
